#!/usr/bin/env python3
"""Count the symbols the Doxygen run documented (from docs/xml/index.xml)."""
import collections
import pathlib
import sys
import xml.etree.ElementTree as ET

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "docs/html").parent / "xml"
tree = ET.parse(root / "index.xml")
kinds = collections.Counter()
for comp in tree.getroot():
    kind = comp.get("kind")
    if kind in ("struct", "union", "page", "file"):
        kinds[kind] += 1
    for mem in comp.findall("member"):
        if kind == "file" or kind in ("struct", "union"):
            kinds[mem.get("kind")] += 1
pub = {k: v for k, v in sorted(kinds.items())}
total = sum(v for k, v in pub.items() if k not in ("page", "file"))
print(f"docs: {total} documented symbols ({', '.join(f'{v} {k}' for k, v in pub.items())})")
