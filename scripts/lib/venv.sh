# Python virtualenvs for scripts/test and scripts/bench: sourced, never run. The caller defines
# die() (prints its arguments as an error and exits).

# Picks the interpreter to build the venv with: python3.11 (the version the pins are chosen for)
# when it is installed, python3 otherwise.
bootstrap_python() {
    local candidate
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1; then
            printf '%s\n' "$candidate"
            return 0
        fi
    done
    die "python3 not found; install python3.11 with pip and venv"
}

# Creates the venv at $1 unless a working one is already there.
ensure_venv() {
    local venv="$1"
    if [[ -x "$venv/bin/python" ]] &&
        "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
        return 0
    fi
    # A missing or broken venv (interrupted creation, interpreter upgraded underneath) is rebuilt
    # from scratch.
    rm -rf -- "$venv"
    local python
    python="$(bootstrap_python)"
    echo "creating $venv with $("$python" --version 2>&1)"
    if ! "$python" -m venv "$venv"; then
        rm -rf -- "$venv"
        die "'$python -m venv' failed; on Debian install the venv module:" \
            "apt-get install python3-venv"
    fi
}

# Installs the pinned requirements file $2 into the venv at $1 unless the stamp says this exact
# file is already installed there.
ensure_requirements() {
    local venv="$1" requirements_file="$2"
    # The stamp lives inside the venv, so deleting or recreating the venv also forces a reinstall.
    local stamp="$venv/.requirements.sha256"
    local wanted installed=""
    wanted="$(sha256sum -- "$requirements_file" | cut -d' ' -f1)"
    if [[ -f "$stamp" ]]; then
        installed="$(<"$stamp")"
    fi
    if [[ "$wanted" == "$installed" ]]; then
        echo "requirements up to date ($requirements_file unchanged since the last install)"
        return 0
    fi
    echo "installing $requirements_file into $venv"
    local started=$SECONDS
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 \
        "$venv/bin/python" -m pip install -q -r "$requirements_file"
    # Written only after a successful install, so a failed one is retried on the next run.
    printf '%s\n' "$wanted" >"$stamp"
    echo "installed in $((SECONDS - started))s"
}
