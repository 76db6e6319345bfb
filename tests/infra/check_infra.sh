#!/usr/bin/env bash
# Checks of infra/ that need no AWS account and no network:
#   1. terraform fmt -check -recursive infra, when terraform is installed (skipped with a message
#      otherwise: CI images may not have it);
#   2. checkov over infra/ with zero failed checks, and every skip justified in a
#      `#checkov:skip=CKV_…:reason` comment beside the resource it skips;
#   3. the drift test: the Terraform and the stacks held against the code (tests/infra/drift.py),
#      and proof that it fails when one side changes alone (tests/infra/test_drift.py).
#
# scripts/test runs it with TALLY_TEST_PYTHON (target/test-venv, tests/requirements.txt) and
# TALLY_CHECKOV (target/infra-venv, tests/infra/requirements.txt). By hand, after scripts/test
# has built both venvs:
#   TALLY_TEST_PYTHON=target/test-venv/bin/python TALLY_CHECKOV=target/infra-venv/bin/checkov \
#       tests/infra/check_infra.sh
set -euo pipefail

repo_root="$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/../.." && pwd)"
cd -- "$repo_root"

python="${TALLY_TEST_PYTHON:-target/test-venv/bin/python}"
checkov="${TALLY_CHECKOV:-target/infra-venv/bin/checkov}"

die() {
    printf 'tests/infra/check_infra.sh: error: %s\n' "$*" >&2
    exit 1
}

[[ -x "$python" ]] || die "no python at $python; set TALLY_TEST_PYTHON (scripts/test does)"
[[ -x "$checkov" ]] || die "no checkov at $checkov; set TALLY_CHECKOV (scripts/test does)"

echo "--- terraform fmt -check -recursive infra"
if command -v terraform >/dev/null 2>&1; then
    # -no-color keeps the log readable; a file listed here is not formatted (fix: terraform fmt
    # -recursive infra).
    terraform fmt -check -recursive -diff -no-color infra
    echo "formatted ($(terraform version | head -n 1))"
else
    echo "terraform is not installed: format check skipped"
fi

echo "--- checkov over infra/"
# A skip without a reason would pass checkov silently; refuse it here.
unjustified="$(grep -rnE '#checkov:skip=[A-Z0-9_]+[[:space:]]*(:[[:space:]]*)?$' infra || true)"
if [[ -n "$unjustified" ]]; then
    die "checkov skips without a reason:"$'\n'"$unjustified"
fi
# --skip-download: no request to the Prisma Cloud API for guidelines or policies; the scan
# uses only the checks shipped in the pinned checkov release.
"$checkov" --directory infra --framework terraform --skip-download --compact --quiet

echo "--- drift between infra/ and the code"
"$python" tests/infra/test_drift.py
