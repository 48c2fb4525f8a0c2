#!/bin/bash
# Fetch the UCI "Diabetes 130-US hospitals" dataset zip to the given path
# (default data/dataset_diabetes.zip) unless it is already there.
set -euo pipefail
dest=${1:-data/dataset_diabetes.zip}
url=${READMIT_DATA_URL:-https://archive.ics.uci.edu/static/public/296/diabetes+130-us+hospitals+for+years+1999-2008.zip}
if [ -s "$dest" ]; then echo "data: $dest is present"; exit 0; fi
mkdir -p "$(dirname "$dest")"
echo "data: downloading $url" >&2
if ! curl -fL --retry 2 --connect-timeout 15 -o "$dest.part" "$url"; then
    rm -f "$dest.part"
    echo "data: download failed (offline?). Copy the zip (or diabetic_data.csv) there yourself, or pass DATA=path" >&2
    exit 1
fi
mv "$dest.part" "$dest"
echo "data: saved $dest"
