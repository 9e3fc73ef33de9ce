"""The institutions: few, rich Mesa agents that decide (DESIGN 2)."""

from sim.agents.airline import Airline, RouteBook
from sim.agents.border_guard import BorderGuard
from sim.agents.state import StateActor
from sim.agents.travel_agency import AgencyBook, TravelAgency

__all__ = ["AgencyBook", "Airline", "BorderGuard", "RouteBook", "StateActor", "TravelAgency"]
