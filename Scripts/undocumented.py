#!/usr/bin/env python3
"""Counts the public declarations of each module under Sources/ without a `///` comment.

    Scripts/undocumented.py [--list]

A declaration counts as documented when the lines above it (attributes skipped) end a `///`
block. Enum cases are counted with their enum. Members of a type's conformance to a documented
protocol (`description`, `init(from:)`, `encode(to:)`) are counted too: document them or their
protocol requirement by a one-line comment.
"""
import os, re, sys

decl = re.compile(r'^\s*(public|open)\s+(?:(?:static|final|override|mutating|nonisolated|convenience|required|indirect)\s+)*'
                  r'(func|var|let|init|subscript|struct|enum|class|protocol|typealias|case|actor)\b')
listing = '--list' in sys.argv
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'Sources')
total = 0
for module in sorted(os.listdir(root)):
    path = os.path.join(root, module)
    if not os.path.isdir(path): continue
    count = missing = 0
    for dirpath, _, files in os.walk(path):
        for name in sorted(files):
            if not name.endswith('.swift'): continue
            lines = open(os.path.join(dirpath, name), encoding='utf-8').read().split('\n')
            for i, line in enumerate(lines):
                if not decl.match(line): continue
                count += 1
                j = i - 1
                while j >= 0 and re.match(r'^\s*@', lines[j]): j -= 1
                if j >= 0 and lines[j].strip().startswith('///'): continue
                missing += 1
                if listing: print(f'{os.path.relpath(os.path.join(dirpath, name), root)}:{i + 1}: {line.strip()[:100]}')
    if count:
        print(f'{module}: {missing} of {count} public declarations undocumented')
    total += missing
sys.exit(0)
