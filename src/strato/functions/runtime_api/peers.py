"""Who is on the other end of a Runtime API connection.

Every environment's listener is on the host's loopback, which every function can reach, so
the port alone does not keep environment B away from environment A's invocations. The kernel
names the client socket (sock_diag, by the connection's addresses): its owner's uid and its
inode. Where A runs as a uid of its own (strato is root), that uid decides, at the cost of the
one netlink round trip. Otherwise the socket must be held by a process of A's own tree: the
inode is looked for among the open files of A's processes, a walk as long as A makes it.
"""

from __future__ import annotations

import os
import socket
import struct

_NETLINK_SOCK_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NLM_F_REQUEST = 1
_NLMSG_ERROR = 2
_HEADER = struct.Struct("=LHHLL")  # nlmsghdr
_REQUEST = struct.Struct("=BBBxI")  # inet_diag_req_v2, up to its socket id
_MESSAGE_OWNER = struct.Struct("=II")  # the last fields of inet_diag_msg: uid, inode
_MESSAGE_SIZE = 72


def _socket_id(source: tuple[str, int], destination: tuple[str, int]) -> bytes:
    """An inet_diag_sockid: ports and addresses in network order, any interface, no cookie."""
    return (struct.pack(">HH", source[1], destination[1]) + socket.inet_aton(source[0]) + bytes(12)
            + socket.inet_aton(destination[0]) + bytes(12) + struct.pack("=III", 0, 0xFFFFFFFF, 0xFFFFFFFF))


def socket_owner(peer: tuple[str, int], local: tuple[str, int]) -> tuple[int, int] | None:
    """The uid and inode of the client socket of the loopback connection peer -> local, asked
    of the kernel by its exact address (sock_diag(7)): one netlink round trip, whatever the
    host's number of connections."""
    body = _REQUEST.pack(socket.AF_INET, socket.IPPROTO_TCP, 0, 0xFFFFFFFF) + _socket_id(peer, local)
    request = _HEADER.pack(_HEADER.size + len(body), _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST, 1, 0) + body
    with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, _NETLINK_SOCK_DIAG) as diag:
        diag.sendto(request, (0, 0))
        reply = diag.recv(8192)
    if len(reply) < _HEADER.size + _MESSAGE_SIZE or _HEADER.unpack_from(reply)[1] == _NLMSG_ERROR:
        return None
    uid, inode = _MESSAGE_OWNER.unpack_from(reply, _HEADER.size + _MESSAGE_SIZE - _MESSAGE_OWNER.size)
    return int(uid), int(inode)


def _tree(root: int) -> list[int]:
    """root and its descendants (every thread's children)."""
    found = [root]
    for pid in found:
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{pid}/task/{task}/children") as children:
                    found.extend(int(child) for child in children.read().split())
            except OSError:
                continue
    return found


def held_by_tree(inode: int, root: int) -> bool:
    """Whether a process of root's tree has the socket `inode` open."""
    target = f"socket:[{inode}]"
    for pid in _tree(root):
        directory = f"/proc/{pid}/fd"
        try:
            fds = os.listdir(directory)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"{directory}/{fd}") == target:
                    return True
            except OSError:
                continue
    return False


def from_environment(peer: tuple[str, int], local: tuple[str, int], root: int, uid: int | None) -> bool:
    """Whether the connection peer -> local comes from the environment whose processes are
    root's tree and, when it has one of its own, run as `uid`."""
    owner = socket_owner(peer, local)
    if owner is None:
        return False
    if uid is not None:
        return owner[0] == uid
    return held_by_tree(owner[1], root)
