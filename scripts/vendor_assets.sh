#!/usr/bin/env bash
# Copies pinned front-end libraries from node_modules (npm registry) into static/vendor.
set -euo pipefail
dest=${1:?destination}
npm ci --silent --no-audit --no-fund
mkdir -p "$dest"
cp node_modules/htmx.org/dist/htmx.min.js "$dest/htmx.min.js"
cp node_modules/sortablejs/Sortable.min.js "$dest/Sortable.min.js"
# The source map too: the minified file names it, and the static manifest checks it exists.
cp node_modules/chart.js/dist/chart.umd.min.js node_modules/chart.js/dist/chart.umd.min.js.map "$dest/"
