# find_python: print the path of a Python >= 3.12 (CORRIDOR_PYTHON, then PATH, then pyenv's
# versions), or return 1. Sourced by scripts/setup.sh and scripts/lock.sh.
find_python() {
    local cand v
    for cand in "${CORRIDOR_PYTHON:-}" python3.12 python3 python3.13 python; do
        [ -n "$cand" ] || continue
        command -v "$cand" >/dev/null 2>&1 || continue
        v=$("$cand" -c 'import sys; print(int(sys.version_info >= (3, 12)))' 2>/dev/null) || continue
        if [ "$v" = "1" ]; then command -v "$cand"; return 0; fi
    done
    local root
    root=$( (command -v pyenv >/dev/null 2>&1 && pyenv root) || echo "$HOME/.pyenv")
    # 3.12 first: the whole stack (Ray, Solara) was checked on it; then newer ones.
    for cand in $(ls -d "$root"/versions/3.12*/bin/python3 2>/dev/null | sort -V -r) \
                $(ls -d "$root"/versions/3.1[3-9]*/bin/python3 2>/dev/null | sort -V); do
        v=$("$cand" -c 'import sys; print(int(sys.version_info >= (3, 12)))' 2>/dev/null) || continue
        if [ "$v" = "1" ]; then echo "$cand"; return 0; fi
    done
    return 1
}
