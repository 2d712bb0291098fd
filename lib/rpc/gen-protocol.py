#!/usr/bin/env python3
"""Generate C layouts, XDR codec tables and dispatch glue from a .proto file.

  gen-protocol.py [--prefix remote] --header H --source C FILE.proto
  gen-protocol.py [--prefix remote] --dispatch --header H --source C FILE.proto

The format is described at the top of lib/rpc/remote.proto.
"""

import argparse
import os
import re
import sys

SCALARS = {
    # name: (C type, xdr primitive, wire bytes)
    'int': ('gint32', 'xdr_int32_type', 4),
    'uint': ('guint32', 'xdr_uint32_type', 4),
    'hyper': ('gint64', 'xdr_int64_type', 8),
    'uhyper': ('guint64', 'xdr_uint64_type', 8),
    'bool': ('gint32', 'xdr_bool_type', 4),
    'char': ('gint32', 'xdr_int32_type', 4),
    'uchar': ('guint32', 'xdr_uint32_type', 4),
    'short': ('gint32', 'xdr_int32_type', 4),
    'ushort': ('guint32', 'xdr_uint32_type', 4),
    'double': ('gdouble', 'xdr_double_type', 8),
}
UNBOUNDED = 0xFFFFFFFF
STRING_MAX = 4194304    # libvirt's REMOTE_STRING_MAX, the default limit of a string
UUID_LEN = 16
C_KEYWORDS = set('''auto break case char const continue default do double else enum extern
float for goto if inline int long register restrict return short signed sizeof static struct
switch typedef union unsigned void volatile while _Bool'''.split())


class ProtoError(Exception):
    pass


def camel(name):
    return ''.join(p[:1].upper() + p[1:] for p in name.split('_') if p)


def pad4(n):
    return (n + 3) & ~3


class Field:
    def __init__(self, base, name, shape, count, line, bound=None):
        self.base = base        # type keyword or type name
        self.name = name
        self.shape = shape      # one | opt | fixed | var
        self.count = count      # int for fixed/var (UNBOUNDED for <>), None otherwise
        self.line = line
        self.bound = bound      # string<N>: the length limit of the string itself


class TypeDef:
    def __init__(self, kind, name, fields, line, discrim=None):
        self.kind = kind        # struct | union
        self.name = name
        self.fields = fields    # for unions: list of (case value, Field)
        self.line = line
        self.discrim = discrim


class Proc:
    def __init__(self, number, name, ro, args, ret, is_msg, line):
        self.number = number
        self.name = name
        self.ro = ro
        self.args = args        # type name or None
        self.ret = ret
        self.is_msg = is_msg
        self.line = line


class Proto:
    def __init__(self):
        self.consts = {}
        self.const_text = []    # (name, literal) in order
        self.enums = {}         # name -> [(NAME, value)]
        self.types = {}         # name -> TypeDef, in declaration order
        self.procs = []


TOKEN_RE = re.compile(r"""
    (?P<nl>\n) | (?P<ws>[ \t\r]+) | (?P<comment>\#[^\n]*)
  | (?P<arrow>->) | (?P<id>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<num>0[xX][0-9a-fA-F]+|-?[0-9]+) | (?P<punct>[{}()<>\[\];,:=*])
  | (?P<bad>.)""", re.VERBOSE)


def tokenize(text, path):
    """Return (kind, text, line) tuples; kind is id, num or punct."""
    tokens = []
    line = 1
    for m in TOKEN_RE.finditer(text):
        kind = m.lastgroup
        if kind == 'nl':
            line += 1
        elif kind in ('ws', 'comment'):
            continue
        elif kind == 'bad':
            raise ProtoError('%s:%d: unexpected character %r' % (path, line, m.group()))
        else:
            tokens.append(('punct' if kind == 'arrow' else kind, m.group(), line))
    return tokens


class Parser:
    def __init__(self, text, path):
        self.toks = tokenize(text, path)
        self.pos = 0
        self.path = path
        self.proto = Proto()

    def error(self, msg, line=None):
        if line is None:
            line = self.toks[self.pos][2] if self.pos < len(self.toks) else 'EOF'
        raise ProtoError('%s:%s: %s' % (self.path, line, msg))

    def peek(self, off=0):
        i = self.pos + off
        return self.toks[i] if i < len(self.toks) else (None, None, 'EOF')

    def take(self, expect=None):
        tok = self.peek()
        if tok[0] is None:
            self.error('unexpected end of file')
        if expect is not None and tok[1] != expect:
            self.error('expected %r, found %r' % (expect, tok[1]))
        self.pos += 1
        return tok

    def ident(self):
        tok = self.take()
        if tok[0] != 'id':
            self.error('expected a name, found %r' % tok[1])
        return tok[1]

    def number(self):
        tok = self.take()
        if tok[0] == 'num':
            return int(tok[1], 0)
        if tok[0] == 'id':
            if tok[1] not in self.proto.consts:
                self.error('unknown constant %s' % tok[1])
            return self.proto.consts[tok[1]]
        self.error('expected a number, found %r' % tok[1])

    def skip_separators(self):
        while self.peek()[1] in (';', ','):
            self.pos += 1

    def parse(self):
        while self.peek()[0] is not None:
            kw = self.ident()
            if kw == 'const':
                self.parse_const()
            elif kw == 'enum':
                self.parse_enum()
            elif kw == 'struct':
                self.parse_struct()
            elif kw == 'union':
                self.parse_union()
            elif kw in ('proc', 'msg'):
                self.parse_proc(kw == 'msg')
            else:
                self.error('unknown declaration %r' % kw)
            self.skip_separators()
        return self.proto

    def parse_const(self):
        name = self.ident()
        self.take('=')
        tok = self.take()
        if tok[0] != 'num':
            self.error('constant value must be a number')
        value = int(tok[1], 0)
        if value < 0 or value > UNBOUNDED:
            self.error('constant %s out of range' % name)
        self.define_name(name, tok[2])
        self.proto.consts[name] = value
        self.proto.const_text.append((name, tok[1]))

    def define_name(self, name, line):
        p = self.proto
        if name in p.consts or name in p.types or name in p.enums:
            self.error('%s defined twice' % name, line)

    def parse_enum(self):
        line = self.peek()[2]
        name = self.ident()
        self.define_name(name, line)
        self.take('{')
        values = []
        while self.peek()[1] != '}':
            vname = self.ident()
            self.take('=')
            values.append((vname, self.number()))
            self.skip_separators()
        self.take('}')
        self.proto.enums[name] = values

    def parse_fields(self, close):
        fields = []
        while self.peek()[1] != close:
            fields.append(self.parse_field())
            self.skip_separators()
        self.take(close)
        return fields

    def parse_field(self):
        line = self.peek()[2]
        base = self.ident()
        shape = 'one'
        count = None
        bound = None
        if base in ('string', 'ostring') and self.peek()[1] == '<':
            self.take('<')
            bound = UNBOUNDED if self.peek()[1] == '>' else self.number()
            self.take('>')
        if self.peek()[1] == '*':
            self.take('*')
            shape = 'opt'
        name = self.ident()
        if self.peek()[1] == '<' and shape == 'one':
            self.take('<')
            count = UNBOUNDED if self.peek()[1] == '>' else self.number()
            self.take('>')
            shape = 'var'
        elif self.peek()[1] == '[' and shape == 'one':
            self.take('[')
            count = self.number()
            self.take(']')
            shape = 'fixed'
        return Field(base, name, shape, count, line, bound)

    def add_type(self, td):
        self.define_name(td.name, td.line)
        self.proto.types[td.name] = td

    def parse_struct(self):
        line = self.peek()[2]
        name = self.ident()
        self.take('{')
        self.add_type(TypeDef('struct', name, self.parse_fields('}'), line))

    def parse_union(self):
        line = self.peek()[2]
        name = self.ident()
        self.take('switch')
        self.take('(')
        dtype = self.ident()
        if dtype not in ('int', 'uint'):
            self.error('union discriminant must be int or uint')
        dname = self.ident()
        self.take(')')
        self.take('{')
        arms = []
        while self.peek()[1] != '}':
            value = self.number()
            self.take(':')
            arms.append((value, self.parse_field()))
            self.skip_separators()
        self.take('}')
        self.add_type(TypeDef('union', name, arms, line, discrim=dname))

    def parse_proc(self, is_msg):
        line = self.peek()[2]
        number = self.number()
        name = self.ident()
        ro = False
        if not is_msg and self.peek()[1] == 'ro':
            self.take('ro')
            ro = True
        self.take('(')
        args = self.parse_fields(')')
        ret = []
        if not is_msg:
            self.take('->')
            self.take('(')
            ret = self.parse_fields(')')
        args_name = ret_name = None
        if args:
            args_name = name + ('_msg' if is_msg else '_args')
            self.add_type(TypeDef('struct', args_name, args, line))
        elif is_msg:
            self.error('a message needs a payload', line)
        if ret:
            ret_name = name + '_ret'
            self.add_type(TypeDef('struct', ret_name, ret, line))
        self.proto.procs.append(Proc(number, name, ro, args_name, ret_name, is_msg, line))


class Generator:
    def __init__(self, proto, prefix, path):
        self.p = proto
        self.prefix = prefix
        self.PREFIX = prefix.upper()
        self.Prefix = camel(prefix)
        self.path = path
        self.min_wire_cache = {}
        self.check()

    def fail(self, line, msg):
        raise ProtoError('%s:%s: %s' % (self.path, line, msg))

    # -- naming

    def ctype_name(self, tname):
        return self.Prefix + camel(tname)

    def xdr_name(self, tname):
        return '%s_%s_xdr' % (self.prefix, tname)

    def proc_const(self, proc):
        return '%s_PROC_%s' % (self.PREFIX, proc.name.upper())

    # -- validation

    def is_named(self, base):
        return base in self.p.types

    def check(self):
        seen = {}
        for proc in self.p.procs:
            if proc.number <= 0 or proc.number > 0x7FFFFFFF:
                self.fail(proc.line, 'procedure number %d out of range' % proc.number)
            if proc.number in seen:
                self.fail(proc.line, 'procedure number %d used by %s and %s' %
                          (proc.number, seen[proc.number], proc.name))
            seen[proc.number] = proc.name
        for td in self.p.types.values():
            names = set()
            if td.kind == 'union':
                cases = set()
                for value, f in td.fields:
                    if value in cases:
                        self.fail(f.line, 'case %d twice in union %s' % (value, td.name))
                    cases.add(value)
                    if f.shape not in ('one', 'opt') or f.base == 'opaque':
                        self.fail(f.line, 'union arms must be single values')
                    if f.name == td.discrim:
                        self.fail(f.line, 'arm %s clashes with the discriminant' % f.name)
                    self.check_field(f, names)
            else:
                for f in td.fields:
                    self.check_field(f, names)
        self.ordered_types()
        for name in self.p.types:
            self.type_min_wire(name)
        if self.p.consts.get('STRING_MAX', STRING_MAX) != STRING_MAX:
            self.fail('STRING_MAX', 'STRING_MAX must stay %d: xdr.c bounds strings in arrays '
                      'with it' % STRING_MAX)

    def check_field(self, f, names):
        if f.name in C_KEYWORDS:
            self.fail(f.line, 'field name %s is a C keyword' % f.name)
        for n in self.c_member_names(f):
            if n in names:
                self.fail(f.line, 'field %s defined twice' % n)
            names.add(n)
        b = f.base
        if b in ('string', 'ostring'):
            if f.shape == 'opt':
                self.fail(f.line, 'use ostring for an optional string')
            if f.shape == 'fixed':
                self.fail(f.line, 'fixed arrays of strings are not supported')
            if f.shape == 'var' and f.bound is not None:
                self.fail(f.line, 'strings in arrays take the default length limit')
        elif b == 'uuid':
            if f.shape != 'one':
                self.fail(f.line, 'uuid takes no size')
        elif b == 'opaque':
            if f.shape not in ('fixed', 'var'):
                self.fail(f.line, 'opaque needs [N] or <N>')
        elif b in SCALARS or b in self.p.enums:
            pass
        elif self.is_named(b):
            pass
        else:
            self.fail(f.line, 'unknown type %s' % b)
        if f.shape == 'fixed' and f.count in (0, UNBOUNDED):
            self.fail(f.line, 'fixed array %s needs a size' % f.name)

    def c_member_names(self, f):
        if f.shape == 'var':
            return [f.name + '_len', f.name + '_val']
        return [f.name]

    # -- C types

    def elem_ctype(self, f):
        """C type of one element (or of the value itself for shape one/opt)."""
        b = f.base
        if b in ('string', 'ostring'):
            return 'char *'
        if b == 'char' and f.shape in ('fixed', 'var'):
            return 'char '
        if b == 'opaque':
            return 'guint8 '
        if b in SCALARS:
            return SCALARS[b][0] + ' '
        if b in self.p.enums:
            return 'gint32 '
        return self.ctype_name(b) + ' '

    def c_members(self, f):
        et = self.elem_ctype(f)
        if f.base == 'uuid':
            return ['guint8 %s[%d];' % (f.name, UUID_LEN)]
        if f.shape == 'one':
            return ['%s%s;' % (et, f.name)]
        if f.shape == 'opt':
            return ['%s*%s;' % (et, f.name)]
        if f.shape == 'fixed':
            return ['%s%s[%d];' % (et, f.name, f.count)]
        return ['guint32 %s_len;' % f.name, '%s*%s_val;' % (et, f.name)]

    def elem_xdr(self, f):
        b = f.base
        if b == 'string':
            return 'xdr_string_type'
        if b == 'ostring':
            return 'xdr_ostring_type'
        if b == 'char' and f.shape in ('fixed', 'var'):
            return 'xdr_char_type'
        if b in SCALARS:
            return SCALARS[b][1]
        if b in self.p.enums:
            return 'xdr_int32_type'
        if b in ('uuid', 'opaque'):
            return 'NULL'
        return self.xdr_name(b)

    # -- sizes

    def type_min_wire(self, tname):
        if tname in self.min_wire_cache:
            return self.min_wire_cache[tname]
        self.min_wire_cache[tname] = None   # marks a by-value cycle
        td = self.p.types[tname]
        if td.kind == 'union':
            total = 4 + min(self.field_min_wire(f) for _, f in td.fields)
        else:
            total = sum(self.field_min_wire(f) for f in td.fields)
        self.min_wire_cache[tname] = total
        return total

    def elem_min_wire(self, f):
        b = f.base
        if b in SCALARS:
            return SCALARS[b][2]
        if b in ('string', 'ostring') or b in self.p.enums:
            return 4
        m = self.type_min_wire(b)
        if m is None:
            self.fail(f.line, 'type %s contains itself' % b)
        return m

    def field_min_wire(self, f):
        if f.base == 'uuid':
            return UUID_LEN
        if f.base == 'opaque':
            return pad4(f.count) if f.shape == 'fixed' else 4
        if f.shape in ('opt', 'var'):
            return 4
        if f.shape == 'fixed':
            return f.count * self.elem_min_wire(f)
        return self.elem_min_wire(f)

    def field_shape(self, f):
        if f.base == 'uuid':
            return 'XDR_SHAPE_OPAQUE_FIXED', UUID_LEN
        if f.base == 'opaque':
            if f.shape == 'fixed':
                return 'XDR_SHAPE_OPAQUE_FIXED', f.count
            return 'XDR_SHAPE_OPAQUE_VAR', f.count
        if f.shape == 'one':
            if f.base in ('string', 'ostring'):
                return 'XDR_SHAPE_ONE', f.bound if f.bound is not None else STRING_MAX
            return 'XDR_SHAPE_ONE', 0
        return {'opt': 'XDR_SHAPE_OPTIONAL', 'fixed': 'XDR_SHAPE_FIXED',
                'var': 'XDR_SHAPE_VAR'}[f.shape], f.count or 0

    # -- ordering: a struct must be complete before another embeds it by value

    def by_value_deps(self, td):
        fields = [f for _, f in td.fields] if td.kind == 'union' else td.fields
        return [f.base for f in fields
                if self.is_named(f.base) and f.shape in ('one', 'fixed')]

    def ordered_types(self):
        done, out, active = set(), [], set()

        def visit(name):
            if name in done:
                return
            if name in active:
                self.fail(self.p.types[name].line, 'type %s contains itself' % name)
            active.add(name)
            for dep in self.by_value_deps(self.p.types[name]):
                visit(dep)
            active.discard(name)
            done.add(name)
            out.append(self.p.types[name])

        for name in self.p.types:
            visit(name)
        return out

    # -- output: protocol header

    def header(self, out_name):
        P = self.PREFIX
        w = []
        w.append('/* Generated by gen-protocol.py from %s: do not edit. */' %
                 os.path.basename(self.path))
        w.append('#pragma once')
        w.append('')
        w.append('#include <glib.h>')
        w.append('')
        w.append('#include "xdr.h"')
        w.append('')
        w.append('G_BEGIN_DECLS')
        w.append('')
        for name, text in self.p.const_text:
            w.append('#define %s_%s %s' % (P, name, text))
        w.append('')
        for ename, values in self.p.enums.items():
            w.append('typedef enum {')
            for vname, value in values:
                w.append('    %s_%s = %d,' % (P, vname, value))
            w.append('} %s;' % self.ctype_name(ename))
            w.append('')
        w.append('enum {')
        for proc in sorted(self.p.procs, key=lambda x: x.number):
            w.append('    %s = %d,' % (self.proc_const(proc), proc.number))
        w.append('};')
        w.append('')
        for td in self.p.types.values():
            cname = self.ctype_name(td.name)
            w.append('typedef struct %s %s;' % (cname, cname))
        w.append('')
        for td in self.ordered_types():
            w.append('struct %s {' % self.ctype_name(td.name))
            if td.kind == 'union':
                w.append('    gint32 %s;' % td.discrim)
                w.append('    union {')
                for _, f in td.fields:
                    for m in self.c_members(f):
                        w.append('        ' + m)
                w.append('    } u;')
            else:
                for f in td.fields:
                    for m in self.c_members(f):
                        w.append('    ' + m)
            w.append('};')
            w.append('')
        for td in self.p.types.values():
            w.append('extern const XdrType %s;' % self.xdr_name(td.name))
        w.append('')
        w.append('#define %s_PROC_FLAG_READONLY (1u << 0) /* allowed on a read-only connection */'
                 % P)
        w.append('#define %s_PROC_FLAG_MESSAGE (1u << 1)  /* an event the server sends */' % P)
        w.append('')
        w.append('typedef struct {')
        w.append('    gint32 number;')
        w.append('    const char *name;')
        w.append('    const XdrType *args; /* NULL when void; the payload of a message */')
        w.append('    const XdrType *ret;  /* NULL when void */')
        w.append('    guint flags;')
        w.append('} %sProcInfo;' % self.Prefix)
        w.append('')
        w.append('/* The layout of procedure or message number proc, NULL if not described. */')
        w.append('const %sProcInfo *%s_proc_info(gint32 proc);' % (self.Prefix, self.prefix))
        w.append('')
        w.append('G_END_DECLS')
        return '\n'.join(w) + '\n'

    # -- output: protocol tables

    def field_entry(self, ctype, f, arm=0):
        shape, limit = self.field_shape(f)
        if f.shape == 'var':
            off = 'offsetof(%s, %s_len)' % (ctype, f.name)
            off2 = 'offsetof(%s, %s_val)' % (ctype, f.name)
        else:
            off = 'offsetof(%s, %s)' % (ctype, f.name)
            off2 = '0'
        xdr = self.elem_xdr(f)
        return ('    {"%s", %s, %s, %s, %du, %s, %d},' %
                (f.name, 'NULL' if xdr == 'NULL' else '&' + xdr, off, off2, limit, shape, arm))

    def source(self, header_name):
        w = []
        w.append('/* Generated by gen-protocol.py from %s: do not edit. */' %
                 os.path.basename(self.path))
        w.append('#include "%s"' % header_name)
        w.append('')
        w.append('#include <stddef.h>')
        w.append('')
        for td in self.p.types.values():
            ctype = self.ctype_name(td.name)
            arr = '%s_%s_fields' % (self.prefix, td.name)
            w.append('static const XdrField %s[] = {' % arr)
            if td.kind == 'union':
                for value, f in td.fields:
                    entry = self.field_entry(ctype, f, value)
                    w.append(entry.replace('offsetof(%s, %s)' % (ctype, f.name),
                                           'offsetof(%s, u.%s)' % (ctype, f.name)))
            else:
                for f in td.fields:
                    w.append(self.field_entry(ctype, f))
            w.append('};')
            w.append('const XdrType %s = {' % self.xdr_name(td.name))
            w.append('    "%s_%s", %s, sizeof(%s), %du, G_N_ELEMENTS(%s), %s, 0,' %
                     (self.prefix, td.name,
                      'XDR_KIND_UNION' if td.kind == 'union' else 'XDR_KIND_STRUCT',
                      ctype, self.type_min_wire(td.name), arr, arr))
            w.append('};')
            w.append('')
        procs = sorted(self.p.procs, key=lambda x: x.number)
        top = procs[-1].number if procs else 0
        w.append('static const %sProcInfo proc_table[%d] = {' % (self.Prefix, top + 1))
        for proc in procs:
            flags = []
            if proc.ro:
                flags.append('%s_PROC_FLAG_READONLY' % self.PREFIX)
            if proc.is_msg:
                flags.append('%s_PROC_FLAG_MESSAGE' % self.PREFIX)
            w.append('    [%d] = {%d, "%s", %s, %s, %s},' %
                     (proc.number, proc.number, proc.name,
                      '&' + self.xdr_name(proc.args) if proc.args else 'NULL',
                      '&' + self.xdr_name(proc.ret) if proc.ret else 'NULL',
                      ' | '.join(flags) or '0'))
        w.append('};')
        w.append('')
        w.append('const %sProcInfo *%s_proc_info(gint32 proc)' % (self.Prefix, self.prefix))
        w.append('{')
        w.append('    if (proc <= 0 || proc >= (gint32)G_N_ELEMENTS(proc_table) || '
                 '!proc_table[proc].name)')
        w.append('        return NULL;')
        w.append('    return &proc_table[proc];')
        w.append('}')
        return '\n'.join(w) + '\n'

    # -- output: dispatch glue

    def calls(self):
        return [p for p in sorted(self.p.procs, key=lambda x: x.number) if not p.is_msg]

    def dispatch_header(self, protocol_header):
        w = []
        w.append('/* Generated by gen-protocol.py from %s: do not edit. */' %
                 os.path.basename(self.path))
        w.append('#pragma once')
        w.append('')
        w.append('#include <glib.h>')
        w.append('')
        w.append('#include "%s"' % protocol_header)
        w.append('')
        w.append('G_BEGIN_DECLS')
        w.append('')
        w.append('typedef struct HearthCall HearthCall;')
        w.append('typedef enum { DISPATCH_DONE, DISPATCH_FAILED, DISPATCH_ASYNC } DispatchResult;')
        w.append('typedef DispatchResult (*DispatchFunc)(HearthCall *call, const void *args, '
                 'void *ret,')
        w.append('                                       GError **error);')
        w.append('')
        w.append('/* The handler of proc, or NULL when no dispatch_<name> is linked in. */')
        w.append('DispatchFunc %s_dispatch_lookup(gint32 proc);' % self.prefix)
        w.append('')
        w.append('/* Handlers are weak: define one in the daemon to implement the procedure. */')
        for proc in self.calls():
            args = ('const %s *args' % self.ctype_name(proc.args)) if proc.args else \
                'const void *args'
            ret = ('%s *ret' % self.ctype_name(proc.ret)) if proc.ret else 'void *ret'
            w.append('DispatchResult dispatch_%s(HearthCall *call, %s, %s, GError **error)' %
                     (proc.name, args, ret))
            w.append('    __attribute__((weak));')
        w.append('')
        w.append('G_END_DECLS')
        return '\n'.join(w) + '\n'

    def dispatch_source(self, dispatch_header):
        w = []
        w.append('/* Generated by gen-protocol.py from %s: do not edit. */' %
                 os.path.basename(self.path))
        w.append('#include "%s"' % dispatch_header)
        w.append('')
        w.append('/* Thunks give every handler the common DispatchFunc type without casting')
        w.append(' * between incompatible function pointer types. */')
        for proc in self.calls():
            w.append('static DispatchResult thunk_%s(HearthCall *call, const void *args, '
                     'void *ret, GError **error)' % proc.name)
            w.append('{')
            w.append('    return dispatch_%s(call, args, ret, error);' % proc.name)
            w.append('}')
            w.append('')
        w.append('DispatchFunc %s_dispatch_lookup(gint32 proc)' % self.prefix)
        w.append('{')
        w.append('    switch (proc) {')
        for proc in self.calls():
            w.append('    case %s:' % self.proc_const(proc))
            w.append('        return dispatch_%s ? thunk_%s : NULL;' % (proc.name, proc.name))
        w.append('    default:')
        w.append('        return NULL;')
        w.append('    }')
        w.append('}')
        return '\n'.join(w) + '\n'


def parse_file(path):
    with open(path, encoding='utf-8') as f:
        return Parser(f.read(), path).parse()


def write_if_changed(path, text):
    try:
        with open(path, encoding='utf-8') as f:
            if f.read() == text:
                return
    except OSError:
        pass
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--prefix', default='remote')
    ap.add_argument('--dispatch', action='store_true',
                    help='write the dispatch glue instead of the protocol tables')
    ap.add_argument('--protocol-header', default=None,
                    help='name of the protocol header the dispatch header includes')
    ap.add_argument('--header', required=True)
    ap.add_argument('--source', required=True)
    ap.add_argument('proto')
    opts = ap.parse_args(argv)
    if not re.match(r'^[a-z][a-z0-9_]*$', opts.prefix):
        ap.error('--prefix must be a lower-case C identifier')
    try:
        gen = Generator(parse_file(opts.proto), opts.prefix, opts.proto)
        header_name = os.path.basename(opts.header)
        if opts.dispatch:
            proto_header = opts.protocol_header or '%s-protocol.h' % opts.prefix
            write_if_changed(opts.header, gen.dispatch_header(proto_header))
            write_if_changed(opts.source, gen.dispatch_source(header_name))
        else:
            write_if_changed(opts.header, gen.header(header_name))
            write_if_changed(opts.source, gen.source(header_name))
    except ProtoError as e:
        print('gen-protocol: %s' % e, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
