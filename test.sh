#!/usr/bin/env bash
# Runs the whole test suite. Installs the Debian packages the tests drive (real BitTorrent clients,
# opentracker, the seed's Python libraries, headless Chromium) when they are missing, then runs `dotnet test Testbed.sln`
# and ends with the plain line "N passed, N failed, N skipped" summed from the test results.
# Extra arguments go to `dotnet test` (for example --filter).
set -uo pipefail
cd "$(dirname "$0")"

apt_packages=(transmission-cli aria2 python3-libtorrent opentracker python3-jwt python3-rsa openssl chromium)

missing=()
for package in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing test dependencies: ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
      || { echo "apt-get install failed for: ${missing[*]}" >&2; exit 2; }
  else
    echo "Missing test dependencies. Run:" >&2
    echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 2
  fi
fi

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

# A test that hangs is stopped after 15 minutes (the longest test takes about 4) and named in the output, rather than
# holding the run until CI's limit.
dotnet test Testbed.sln --logger trx -p:TestbedResultsRoot="$results" --blame-hang-timeout 15m --blame-hang-dump-type none "$@"
status=$?

# Each test assembly writes one TRX file; its <Counters> element holds the real counts.
passed=0 failed=0 skipped=0
for trx in "$results"/*/*.trx; do
  [ -e "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  count() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
  passed=$((passed + $(count passed)))
  failed=$((failed + $(count failed) + $(count error) + $(count timeout) + $(count aborted)))
  # A skipped test is counted in total but not in executed (its notExecuted counter stays 0).
  skipped=$((skipped + $(count total) - $(count executed)))
done

if [ $status -ne 0 ] && [ $failed -eq 0 ]; then
  echo "dotnet test exited with $status before every test could report (build error or crashed test host)." >&2
fi
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
