#!/usr/bin/env python3
"""gen-protocol.py: remote.proto describes libvirt 9.0 completely; bad input is refused."""

import importlib.util
import sys
import tempfile
import os

sys.dont_write_bytecode = True  # keep the source tree clean
spec = importlib.util.spec_from_file_location('gen_protocol', sys.argv[1])
gen = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gen)
failures = 0


def check(cond, what):
    global failures
    if not cond:
        print('FAIL: %s' % what)
        failures += 1


def refuses(text, needle):
    with tempfile.NamedTemporaryFile('w', suffix='.proto', delete=False) as f:
        f.write(text)
    try:
        gen.Generator(gen.parse_file(f.name), 'x', f.name)
        check(False, 'accepted: %r' % text)
    except gen.ProtoError as e:
        check(needle in str(e), 'error %r lacks %r' % (str(e), needle))
    finally:
        os.unlink(f.name)


proto = gen.parse_file(sys.argv[2])
g = gen.Generator(proto, 'remote', sys.argv[2])
numbers = sorted(p.number for p in proto.procs)
last = proto.consts['PROC_LAST']
check(last == 443, 'PROC_LAST is %d' % last)
check(numbers == list(range(1, last + 1)), 'procedures 1..%d are not all described' % last)
names = [p.name for p in proto.procs]
check(len(set(names)) == len(names), 'duplicate procedure names')
by_name = {p.name: p for p in proto.procs}
check(by_name['domain_rename'].number == 358, 'domain_rename is not 358')
check(by_name['domain_open_console'].number == 201, 'domain_open_console is not 201')
check(by_name['domain_get_max_memory'].number == 17, 'domain_get_max_memory is not 17')
check(by_name['domain_event_callback_lifecycle'].is_msg, '318 is not a message')
check(not by_name['domain_create'].ro, 'domain_create is marked read-only')
check(by_name['connect_list_all_domains'].ro, 'connect_list_all_domains is not read-only')
# Wire sizes the reference spells out.
check(g.type_min_wire('node_get_info_ret') == 160, 'NODE_GET_INFO payload is not 160 bytes')
check(g.type_min_wire('domain_get_info_ret') == 32, 'DOMAIN_GET_INFO payload is not 32 bytes')
check(g.type_min_wire('nonnull_domain') == 24, 'nonnull_domain minimum is not 24 bytes')

refuses('proc 1 a () -> ()\nproc 1 b () -> ()\n', 'procedure number 1 used by a and b')
refuses('struct s { nosuch x; }\n', 'unknown type nosuch')
refuses('struct s { int default; }\n', 'C keyword')
refuses('struct s { int a; int a; }\n', 'defined twice')
refuses('struct s { s inner; }\n', 'contains itself')
refuses('struct s { string *x; }\n', 'use ostring')
refuses('struct s { opaque x; }\n', 'opaque needs')
refuses('struct s { int x<NOPE>; }\n', 'unknown constant NOPE')
refuses('union u switch (int d) { 1: int a; 1: int b; }\n', 'case 1 twice')
refuses('union u switch (int d) { 1: int a<3>; }\n', 'single values')
refuses('struct s { int a; } $\n', "unexpected character '$'")
refuses('msg 3 m ()\n', 'needs a payload')
refuses('const A = 1;\nconst A = 2;\n', 'defined twice')
refuses('struct s { string<4> names<3>; }\n', 'default length limit')
# An optional pointer may refer back to its own type.
with tempfile.NamedTemporaryFile('w', suffix='.proto', delete=False) as f:
    f.write('struct node { int v; node *next; node kids<>; }\n')
try:
    gen.Generator(gen.parse_file(f.name), 'x', f.name).header('x.h')
except gen.ProtoError as e:
    check(False, 'self-reference through a pointer refused: %s' % e)
finally:
    os.unlink(f.name)

print('%d procedures, %d types' % (len(proto.procs), len(proto.types)))
sys.exit(1 if failures else 0)
