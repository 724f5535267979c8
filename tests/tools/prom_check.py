#!/usr/bin/env python3
"""prom_check: a strict checker of the Prometheus text exposition format 0.0.4.

    prom_check.py FILE|-                 check; exit 0, or 1 listing every problem
    prom_check.py --value SERIES FILE|-  check, then print the value of SERIES
                                         (e.g. 'x_total{kind="a"}'); exit 1 if absent

Checks the grammar (names, labels and their escapes, values, timestamps), that
each family has at most one HELP and one TYPE and that they come before its
samples, that a family's samples form one group, that no series repeats, the
histogram rules (le label, ascending cumulative buckets ending in +Inf equal to
_count, _sum and _count present) and the naming conventions promtool lints:
HELP text present, counters end in _total and nothing else does, snake_case,
base units.
"""
import math
import re
import sys

NAME = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*')
LABEL = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*')
FLOAT = re.compile(r'[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)$')
TYPES = ('counter', 'gauge', 'histogram', 'summary', 'untyped')
NON_BASE_UNITS = ('milliseconds', 'microseconds', 'nanoseconds', 'minutes', 'hours',
                  'kilobytes', 'megabytes', 'gigabytes', 'percent', 'celsius_millis')


def parse_value(s):
    if s in ('NaN', '+Inf', 'Inf', '-Inf'):
        return {'NaN': math.nan, '-Inf': -math.inf}.get(s, math.inf)
    if not FLOAT.match(s):
        raise ValueError('bad value %r' % s)
    return float(s)


def parse_labels(s, i):
    """Parses {a="x",b="y"} starting at s[i] == '{'; returns (labels, index after '}')."""
    labels = []
    i += 1
    while True:
        if i < len(s) and s[i] == '}':
            return labels, i + 1
        m = LABEL.match(s, i)
        if not m:
            raise ValueError('bad label name at column %d' % (i + 1))
        name = m.group(0)
        if name.startswith('__'):
            raise ValueError('reserved label name %r' % name)
        i = m.end()
        if s[i:i + 2] != '="':
            raise ValueError('expected =" after label %r' % name)
        i += 2
        val = []
        while True:
            if i >= len(s):
                raise ValueError('unterminated label value')
            c = s[i]
            if c == '\\':
                nxt = s[i + 1:i + 2]
                if nxt not in ('\\', '"', 'n'):
                    raise ValueError('bad escape \\%s in label value' % nxt)
                val.append('\n' if nxt == 'n' else nxt)
                i += 2
            elif c == '"':
                i += 1
                break
            else:
                val.append(c)
                i += 1
        if any(n == name for n, _ in labels):
            raise ValueError('label %r repeated' % name)
        labels.append((name, ''.join(val)))
        if i < len(s) and s[i] == ',':
            i += 1
        elif i < len(s) and s[i] == '}':
            continue
        else:
            raise ValueError('expected , or } after label %r' % name)


def family_of(name, types):
    """The family a sample name belongs to (histogram/summary suffixes stripped)."""
    if name in types:
        return name
    for suf in ('_bucket', '_sum', '_count'):
        if name.endswith(suf) and types.get(name[:-len(suf)]) in ('histogram', 'summary'):
            return name[:-len(suf)]
    return name


def check(text):
    errors = []
    samples = {}
    types, helps = {}, {}
    done = set()       # families whose group has ended
    current = None
    if text and not text.endswith('\n'):
        errors.append('the last line does not end with a newline')
    for no, line in enumerate(text.split('\n'), 1):
        if line == '':
            continue
        err = lambda msg: errors.append('line %d: %s: %s' % (no, msg, line[:120]))
        if line.startswith('#'):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] in ('HELP', 'TYPE'):
                name = parts[2]
                if not NAME.fullmatch(name):
                    err('bad metric name')
                    continue
                if name in done:
                    err('%s for a family that already had samples' % parts[1])
                if parts[1] == 'HELP':
                    if name in helps:
                        err('second HELP')
                    helps[name] = parts[3] if len(parts) > 3 else ''
                    if re.search(r'\\[^\\n]', helps[name]):
                        err('bad escape in HELP')
                else:
                    if len(parts) != 4 or parts[3] not in TYPES:
                        err('bad TYPE')
                        continue
                    if name in types:
                        err('second TYPE')
                    if any(family_of(s[0], {name: parts[3]}) == name for s in samples):
                        err('TYPE after samples of its family')
                    types[name] = parts[3]
            continue
        m = NAME.match(line)
        if not m:
            err('bad metric name')
            continue
        name = m.group(0)
        i = m.end()
        labels = []
        try:
            if i < len(line) and line[i] == '{':
                labels, i = parse_labels(line, i)
            rest = line[i:]
            if not rest.startswith(' '):
                raise ValueError('expected a space before the value')
            fields = rest.split(' ')[1:]
            if len(fields) not in (1, 2) or '' in fields:
                raise ValueError('expected VALUE [TIMESTAMP]')
            value = parse_value(fields[0])
            if len(fields) == 2 and not re.fullmatch(r'-?\d+', fields[1]):
                raise ValueError('bad timestamp')
        except ValueError as e:
            err(str(e))
            continue
        fam = family_of(name, types)
        if fam != current:
            if fam in done:
                err('samples of family %s are not one group' % fam)
            if current:
                done.add(current)
            current = fam
        key = (name, tuple(sorted(labels)))
        if key in samples:
            err('series repeated')
        samples[key] = value
    errors += check_families(samples, types, helps)
    return errors, samples


def check_families(samples, types, helps):
    errors = []
    fams = {}
    for (name, labels), v in samples.items():
        fams.setdefault(family_of(name, types), []).append((name, labels, v))
    for fam, rows in fams.items():
        t = types.get(fam, 'untyped')
        if fam not in helps or not helps[fam].strip():
            errors.append('%s: no HELP text' % fam)
        if re.search(r'[a-z][A-Z]', fam):
            errors.append('%s: not snake_case' % fam)
        for unit in NON_BASE_UNITS:
            if re.search(r'(^|_)%s(_|$)' % unit, fam):
                errors.append('%s: use base units (not %s)' % (fam, unit))
        if t == 'counter':
            if not fam.endswith('_total'):
                errors.append('%s: counter without the _total suffix' % fam)
            for name, labels, v in rows:
                if not v >= 0:
                    errors.append('%s: counter value %r is negative' % (fam, v))
        elif fam.endswith('_total'):
            errors.append('%s: only counters end in _total' % fam)
        if t == 'histogram':
            errors += check_histogram(fam, rows)
    return errors


def check_histogram(fam, rows):
    errors = []
    groups = {}
    for name, labels, v in rows:
        rest = tuple(l for l in labels if l[0] != 'le')
        g = groups.setdefault(rest, {'buckets': [], 'sum': None, 'count': None})
        if name == fam + '_bucket':
            le = dict(labels).get('le')
            if le is None:
                errors.append('%s: bucket without le' % fam)
                continue
            try:
                g['buckets'].append((parse_value(le), v))
            except ValueError:
                errors.append('%s: bad le %r' % (fam, le))
        elif name == fam + '_sum':
            g['sum'] = v
        elif name == fam + '_count':
            g['count'] = v
        else:
            errors.append('%s: stray sample %s in a histogram' % (fam, name))
    for rest, g in groups.items():
        b = g['buckets']
        if g['sum'] is None or g['count'] is None:
            errors.append('%s%s: _sum or _count missing' % (fam, dict(rest)))
        if not b or b[-1][0] != math.inf:
            errors.append('%s%s: no +Inf bucket last' % (fam, dict(rest)))
            continue
        if [x[0] for x in b] != sorted(x[0] for x in b) or len({x[0] for x in b}) != len(b):
            errors.append('%s%s: buckets not in ascending le order' % (fam, dict(rest)))
        if any(b[i][1] > b[i + 1][1] for i in range(len(b) - 1)):
            errors.append('%s%s: buckets not cumulative' % (fam, dict(rest)))
        if g['count'] is not None and b[-1][1] != g['count']:
            errors.append('%s%s: +Inf bucket %r != _count %r' % (fam, dict(rest), b[-1][1],
                                                                g['count']))
    return errors


def series_key(series):
    m = NAME.match(series)
    labels = []
    if m.end() < len(series):
        labels, end = parse_labels(series, m.end())
    return (m.group(0), tuple(sorted(labels)))


def main(argv):
    want = None
    if len(argv) == 4 and argv[1] == '--value':
        want, path = argv[2], argv[3]
    elif len(argv) == 2:
        path = argv[1]
    else:
        print(__doc__, file=sys.stderr)
        return 2
    text = sys.stdin.read() if path == '-' else open(path, encoding='utf-8').read()
    errors, samples = check(text)
    for e in errors:
        print('prom_check: %s' % e, file=sys.stderr)
    if errors:
        return 1
    if want is not None:
        key = series_key(want)
        if key not in samples:
            print('prom_check: no series %s' % want, file=sys.stderr)
            return 1
        v = samples[key]
        print(int(v) if math.isfinite(v) and v == int(v) else v)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
