"""The institutions: few, rich Mesa agents that decide (DESIGN 2)."""

from sim.model.institutions.airline import Airline, RouteBook
from sim.model.institutions.border_guard import BorderGuard
from sim.model.institutions.state import StateActor
from sim.model.institutions.travel_agency import AgencyBook, TravelAgency

__all__ = ["AgencyBook", "Airline", "BorderGuard", "RouteBook", "StateActor", "TravelAgency"]
