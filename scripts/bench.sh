#!/usr/bin/env bash
# Engine benchmarks on real 12–20 MP photographs (Debian's lomiri wallpapers, fetched here, never
# committed). Results go to BENCHMARKS.md by hand, with the machine and this command.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench-data/photos
if [ ! -f bench-data/photos/sunset_by_Aitzol_Berasategi.jpg ]; then
  (cd bench-data && apt-get download lomiri-wallpapers-16.04 lomiri-wallpapers-20.04 >/dev/null 2>&1)
  for f in bench-data/*.deb; do dpkg-deb -x "$f" bench-data/x; done
  # Three photos of 12–16 MP.
  for f in sunset_by_Aitzol_Berasategi.jpg Dragonfly_by_Bolly.jpg seeding_by_Clements_Engelhardt.jpg; do
    cp "bench-data/x/usr/share/backgrounds/$f" bench-data/photos/
  done
fi
# One core for the engine: taskset pins the benchmark process.
taskset -c 0 cargo bench -p shotline-core --bench pipeline -- "${@}"
