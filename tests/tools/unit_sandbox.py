#!/usr/bin/python3
"""unit_sandbox: runs a command under the system call filter and the memory
protection a systemd unit file asks for, where systemd itself cannot run.

    unit_sandbox.py UNIT -- CMD [ARG...]

Reads UNIT's SystemCallFilter= lines (allow lists and ~deny lists of names
and @groups, expanded with `systemd-analyze syscall-filter`),
SystemCallErrorNumber= and MemoryDenyWriteExecute=, then: sets
no_new_privs, PR_SET_MDWE when asked (refuse memory that is written and
then executed, as MemoryDenyWriteExecute=yes does), loads the filter with
libseccomp (a call outside the list fails with the unit's errno, EPERM
unless it says otherwise) and execs CMD, whose children inherit all of it.
Exit status 2 when the unit cannot be read or the filter cannot be loaded.
"""
import ctypes
import ctypes.util
import errno
import os
import subprocess
import sys

PR_SET_NO_NEW_PRIVS = 38
PR_SET_MDWE = 65
PR_MDWE_REFUSE_EXEC_GAIN = 1
SCMP_ACT_ALLOW = 0x7fff0000


def scmp_act_errno(e):
    return 0x00050000 | (e & 0xffff)


_groups = {}


def expand(name, seen=None):
    """A system call name, or every call of an @group, recursively."""
    if not name.startswith('@'):
        return {name}
    if name in _groups:
        return _groups[name]
    out = set()
    text = subprocess.run(['systemd-analyze', 'syscall-filter', name], check=True,
                          capture_output=True, text=True).stdout
    for line in text.splitlines()[1:]:
        item = line.strip()
        if item and not item.startswith('#'):
            out |= expand(item)
    _groups[name] = out
    return out


def read_unit(path):
    allow, deny, err, mdwe = None, set(), errno.EPERM, False
    with open(path) as f:
        for line in f:
            line = line.strip()
            key, _, value = line.partition('=')
            if key == 'SystemCallFilter':
                neg = value.startswith('~')
                names = set()
                for item in value.lstrip('~').split():
                    names |= expand(item)
                if neg:
                    deny |= names
                    if allow is not None:
                        allow -= names
                else:
                    allow = (allow or set()) | (names - deny)
            elif key == 'SystemCallErrorNumber':
                err = getattr(errno, value.strip(), errno.EPERM)
            elif key == 'MemoryDenyWriteExecute':
                mdwe = value.strip() in ('yes', 'true', '1', 'on')
    return allow, deny, err, mdwe


def main():
    if len(sys.argv) < 4 or sys.argv[2] != '--':
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    allow, deny, err, mdwe = read_unit(sys.argv[1])
    cmd = sys.argv[3:]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        print("unit_sandbox: cannot set no_new_privs", file=sys.stderr)
        return 2
    if mdwe and libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
        print("unit_sandbox: PR_SET_MDWE failed: %s" % os.strerror(ctypes.get_errno()),
              file=sys.stderr)
        return 2
    if allow is not None or deny:
        lib = ctypes.util.find_library('seccomp') or 'libseccomp.so.2'
        sc = ctypes.CDLL(lib, use_errno=True)
        sc.seccomp_init.restype = ctypes.c_void_p
        sc.seccomp_init.argtypes = [ctypes.c_uint32]
        sc.seccomp_rule_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                        ctypes.c_uint]
        sc.seccomp_load.argtypes = [ctypes.c_void_p]
        sc.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
        # An allow list: everything else fails with err.  A deny list only:
        # everything else is allowed.
        default = scmp_act_errno(err) if allow is not None else SCMP_ACT_ALLOW
        ctx = sc.seccomp_init(default)
        if not ctx:
            print("unit_sandbox: seccomp_init failed", file=sys.stderr)
            return 2
        names = allow if allow is not None else deny
        action = SCMP_ACT_ALLOW if allow is not None else scmp_act_errno(err)
        for name in sorted(names):
            nr = sc.seccomp_syscall_resolve_name(name.encode())
            if nr == -1:
                continue        # not a call of this architecture
            sc.seccomp_rule_add(ctx, action, nr, 0)
        if sc.seccomp_load(ctx) != 0:
            print("unit_sandbox: seccomp_load failed", file=sys.stderr)
            return 2
        print(f"unit_sandbox: {len(names)} calls {'allowed' if allow is not None else 'denied'}"
              f", others {'fail with ' + errno.errorcode[err] if allow is not None else 'allowed'}"
              f"; MemoryDenyWriteExecute {'on' if mdwe else 'off'}", file=sys.stderr)
    os.execvp(cmd[0], cmd)


if __name__ == '__main__':
    sys.exit(main())
