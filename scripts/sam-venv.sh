# Sourced by scripts/lint-infra.sh and scripts/sam-build.sh: the one .venv-sam at the repo
# root with the pins of scripts/requirements-sam.txt (aws-sam-cli, cfn-lint, statelint,
# cargo-lambda, ziglang). Reinstalled when the pins change (a stamp of the file) or a tool
# is missing; a lock keeps a parallel `make test` and `make build` from installing at once.
# Sets VENV; needs ROOT and python3.

VENV="$ROOT/.venv-sam"

ensure_sam_venv() {
    local reqs="$ROOT/scripts/requirements-sam.txt"
    local stamp="$VENV/.requirements.sha256" want
    want="$(sha256sum "$reqs" | cut -d' ' -f1)"
    mkdir -p "$VENV"
    (
        flock 9
        if [[ -x "$VENV/bin/sam" && -x "$VENV/bin/cargo-lambda" && -f "$stamp" \
            && "$(cat "$stamp")" == "$want" ]] \
            && "$VENV/bin/python" -c 'import ziglang' 2>/dev/null; then
            exit 0
        fi
        printf '==> installing SAM tooling into .venv-sam (scripts/requirements-sam.txt)\n' >&2
        python3 -m venv "$VENV"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$reqs"
        echo "$want" >"$stamp"
    ) 9>"$VENV/.install.lock"
}
