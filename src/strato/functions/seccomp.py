"""A seccomp filter that denies an environment the kernel's keyring system calls (add_key,
request_key, keyctl), as Docker's default profile does. Keyrings are not namespaced: a user's
keyring outlives its processes, so every environment (a uid of its own) could leave keys in
the kernel for good, and a session keyring inherited from whoever started strato would be the
function's to read. Only the standard library: it runs inside zygotes."""

from __future__ import annotations

import errno
import struct

from . import syscalls

SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
_LOAD_WORD = 0x20  # BPF_LD | BPF_W | BPF_ABS
_AND = 0x54  # BPF_ALU | BPF_AND | BPF_K
_JUMP_IF_EQUAL = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_RETURN = 0x06  # BPF_RET | BPF_K
_NR, _ARCH = 0, 4  # offsets in struct seccomp_data
_X32_BIT = 0x40000000

# (AUDIT_ARCH_*, add_key, request_key, keyctl): each ABI a process of this host may call through.
KEYRING_CALLS = (
    (0xC000003E, 248, 249, 250),  # x86_64 (and x32, whose numbers add _X32_BIT)
    (0x40000003, 286, 287, 288),  # i386, on x86_64 too
    (0xC00000B7, 217, 218, 219),  # aarch64
    (0x40000028, 309, 310, 311),  # arm, on aarch64 too
)


def _instruction(code: int, k: int, true: int = 0, false: int = 0) -> bytes:
    return struct.pack("=HBBI", code, true, false, k)


def keyring_filter() -> bytes:
    """The filter's instructions: per known ABI, its keyring calls fail with EPERM."""
    blocks: list[list[tuple[int, int, int | None]]] = []  # (code, k, jump to deny when equal)
    for arch, *numbers in KEYRING_CALLS:
        block: list[tuple[int, int, int | None]] = [(_LOAD_WORD, _NR, None)]
        if arch == KEYRING_CALLS[0][0]:
            block.append((_AND, ~_X32_BIT & 0xFFFFFFFF, None))
        block += [(_JUMP_IF_EQUAL, number, 1) for number in numbers]
        block.append((_RETURN, SECCOMP_RET_ALLOW, None))
        blocks.append([(_JUMP_IF_EQUAL, arch, None), *block])
    program: list[tuple[int, int, int, int]] = [(_LOAD_WORD, _ARCH, 0, 0)]
    total = 1 + sum(len(block) for block in blocks) + 1  # the deny is the instruction after ALLOW
    for block in blocks:
        start = len(program)
        for offset, (code, k, deny) in enumerate(block):
            here = start + offset
            if offset == 0:  # not this ABI: on to the next block
                program.append((code, k, 0, len(block) - 1))
            elif deny is not None:
                program.append((code, k, total - here - 1, 0))
            else:
                program.append((code, k, 0, 0))
    program.append((_RETURN, SECCOMP_RET_ALLOW, 0, 0))  # an ABI not listed
    program.append((_RETURN, SECCOMP_RET_ERRNO | errno.EPERM, 0, 0))
    return b"".join(_instruction(code, k, true, false) for code, k, true, false in program)


def deny_keyrings() -> None:
    """Install the filter on the calling thread; its children inherit it (needs no_new_privs)."""
    syscalls.seccomp_filter(keyring_filter())
