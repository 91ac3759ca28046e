#!/usr/bin/env bash
# Seam's test command: formatting, lints, the dependency rule, then every test of the
# workspace on SQLite and on PostgreSQL, then the browser tests of the agent app and the chat
# widget. The agent app is type-checked and its committed build (web/dist) proven fresh.
#
# PostgreSQL comes from SEAM_TEST_DATABASE_URL (default: the local server at
# postgres://postgres@127.0.0.1:5432/postgres); each test run creates and drops its own
# databases there. With CI=true an unreachable PostgreSQL fails the run before any test.
set -euo pipefail
cd "$(dirname "$0")/.."

local_postgres="postgres://postgres@127.0.0.1:5432/postgres"
chosen_database_url="${SEAM_TEST_DATABASE_URL:-}"
export SEAM_TEST_DATABASE_URL="${SEAM_TEST_DATABASE_URL:-$local_postgres}"
in_ci=false
if [[ "${CI:-}" == "true" || "${CI:-}" == "1" ]]; then in_ci=true; fi

step() { printf '\n==> %s\n' "$*"; }

# Whether a PostgreSQL server answers at the URL.
postgres_reachable() {
  local url=$1
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -t 5 -d "$url"
    return
  fi
  # Without the client tools: is anything listening at host:port?
  local rest=${url#*://}
  rest=${rest#*@}
  rest=${rest%%/*}
  rest=${rest%%\?*}
  local host=${rest%%:*} port=5432
  if [[ "$rest" == *:* ]]; then port=${rest##*:}; fi
  timeout 5 bash -c "exec 3<>/dev/tcp/${host:-127.0.0.1}/$port" 2>/dev/null
}

step "PostgreSQL at $SEAM_TEST_DATABASE_URL"
if postgres_reachable "$SEAM_TEST_DATABASE_URL"; then
  echo "reachable"
elif $in_ci; then
  echo "error: CI=true and PostgreSQL is unreachable at $SEAM_TEST_DATABASE_URL." >&2
  echo "The PostgreSQL tests must run in CI; start the server (.ci/run does) and try again." >&2
  exit 1
elif [[ -n "$chosen_database_url" ]]; then
  echo "error: PostgreSQL is unreachable at SEAM_TEST_DATABASE_URL=$chosen_database_url." >&2
  exit 1
else
  unset SEAM_TEST_DATABASE_URL
  echo "WARNING: no PostgreSQL at $local_postgres: the PostgreSQL tests will NOT RUN." >&2
  echo "WARNING: start it, or set SEAM_TEST_DATABASE_URL, to run the whole suite." >&2
fi

step "formatting"
cargo fmt --all --check

step "lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "dependency rule"
# `forbid_dependencies PACKAGE CRATE...`: PACKAGE's normal dependency tree holds none of CRATE
# (nor its sub-crates such as sqlx-core).
forbid_dependencies() {
  local package=$1
  shift
  local tree
  tree=$(cargo tree --locked -p "$package" -e normal --prefix none)
  local crate
  for crate in "$@"; do
    if grep -Eq "^${crate}(-[a-z0-9-]+)? v" <<<"$tree"; then
      echo "error: the dependency rule is broken: $package depends on $crate:" >&2
      grep -E "^${crate}(-[a-z0-9-]+)? v" <<<"$tree" | sort -u >&2
      exit 1
    fi
  done
  echo "$package: none of $*"
}
forbid_dependencies seam-core sqlx axum reqwest tantivy tokio
forbid_dependencies seam-api sqlx seam-store

step "web app: packages, type check, committed build is fresh"
# web/dist is committed and embedded in the binary (docs/adr/0008): rebuild it from source
# into a scratch directory and compare.
web_ready=false
if command -v npm >/dev/null 2>&1; then
  if [[ ! -d web/node_modules || web/package-lock.json -nt web/node_modules/.package-lock.json ]]; then
    (cd web && npm ci --no-audit --no-fund)
  fi
  (cd web && npm run --silent check)
  web_scratch=$(mktemp -d)
  (cd web && npm run --silent build -- --outDir "$web_scratch" --emptyOutDir --logLevel warn)
  if ! diff -r web/dist "$web_scratch" >/dev/null; then
    diff -rq web/dist "$web_scratch" >&2 || true
    rm -rf "$web_scratch"
    echo "error: web/dist is not the build of web/src: run 'cd web && npm run build' and commit web/dist." >&2
    exit 1
  fi
  rm -rf "$web_scratch"
  echo "web/dist is the build of web/src"
  web_ready=true
elif $in_ci; then
  echo "error: CI=true and npm is missing: the web app cannot be checked (.ci/run installs it)." >&2
  exit 1
else
  echo "WARNING: npm not found: the web app's type check, build check and browser tests will NOT RUN." >&2
fi

step "tests"
test_log=$(mktemp)
trap 'rm -f "$test_log"' EXIT
set +e
cargo test --workspace --locked 2>&1 | tee "$test_log"
tests_status=${PIPESTATUS[0]}
set -e
# One closing line for the whole workspace: cargo prints one summary per test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed;?$/) p += $i; if ($(i+1) ~ /^failed;?$/) f += $i } }
     END { printf "\nseam: %d passed, %d failed\n", p, f }' "$test_log"
if [[ "$tests_status" -ne 0 ]]; then
  exit "$tests_status"
fi

step "browser tests (agent app, website chat widget)"
# Drive Debian's Chromium with playwright-core against the `seam` binary the tests built.
chromium_path=${CHROMIUM:-/usr/bin/chromium}
if ! $web_ready || [[ ! -x "$chromium_path" || ! -d web/node_modules/playwright-core ]]; then
  if $in_ci; then
    echo "error: CI=true and the browser tests cannot run: need $chromium_path, npm and" >&2
    echo "web/node_modules (.ci/run installs them: apt-get install chromium nodejs npm)." >&2
    exit 1
  fi
  echo "WARNING: browser tests NOT RUN: install chromium and npm." >&2
  exit 0
fi
cargo build --locked -p seam-server --bin seam
for spec in web/tests/app.spec.mjs web/tests/widget.spec.mjs; do
  SEAM_BIN="$PWD/target/debug/seam" CHROMIUM="$chromium_path" node "$spec"
done
