"""A stand-in for the Linli server's witness routes (docs/votes.md "Witnesses"), serving one vote from a
VoteBuilder on 127.0.0.1 — honest, or equivocating: once a witness has co-signed, it can be shown a
fork of the log (same size, another root; or a longer log that does not extend what it co-signed),
or a smaller log. For tests/voting/test_witness_program.py and bench/witness_bench.py."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from voting.canonical import format_time, loads_strict
from voting.entries import make_tree_head
from voting.merkle import MerkleTree
from voting.witnesses import HEADER_KEY, HEADER_SIGNATURE, HEADER_TIME, cosignature_problem, request_problem


class WitnessServer:
    """Serves `builder`'s vote; `view` (a builder) is what witnesses are shown, the honest log unless
    a test swaps in a fork. Co-signatures posted are checked and kept in `cosignatures`."""

    def __init__(self, builder):
        self.builder = builder
        self.view = builder
        self.view_size = None  # show only the first n entries (a rollback), or all
        self.cosignatures: list[dict] = []
        self.requests: list[str] = []
        self.refused: list[tuple[int, str]] = []
        self.posts_fail = False  # answer co-signatures with a 503 (the server went away mid-run)
        self._trees: dict[int, tuple[int, MerkleTree]] = {}
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def tree(self):
        """The Merkle tree of what witnesses are shown (cached per view and size)."""
        view = self.view
        size = len(view.hashes) if self.view_size is None else self.view_size
        cached = self._trees.get(id(view))
        if cached is None or cached[0] != len(view.hashes):
            cached = self._trees[id(view)] = (len(view.hashes), MerkleTree(view.hashes))
        return view, size, cached[1]

    def _head(self, query):
        view, size, tree = self.tree()
        head = make_tree_head(view.server_key, view.vote_id, size, tree.root(size),
                              format_time(datetime.now(timezone.utc)))
        first = int(query["first"][0]) if "first" in query else None
        proof = [p.hex() for p in tree.consistency_proof(first, size)] if first and first <= size else None
        return {"vote_id": view.vote_id, "definition": view.entries[0], "tree_head": head,
                "definition_proof": [p.hex() for p in tree.inclusion_proof(0, size)], "consistency_proof": proof}

    def _handler(self):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _answer(self, status, body):
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                if status >= 400:
                    outer.refused.append((status, body["error"]["code"]))

            def do_GET(self):
                outer.requests.append(self.path)
                parts = urlsplit(self.path)
                problem = request_problem(self.headers.get(HEADER_KEY), self.headers.get(HEADER_SIGNATURE), "GET",
                                          self.path, self.headers.get(HEADER_TIME), datetime.now(timezone.utc))
                if problem:
                    return self._answer(401, {"error": {"code": "witness_signature_invalid", "message": problem}})
                vote_id = outer.builder.vote_id
                if parts.path == "/api/v1/witness/votes":
                    return self._answer(200, {"votes": [{"id": 1, "vote_id": vote_id, "community_id": 1,
                                                         "state": "open", "size": len(outer.builder.hashes)}]})
                if parts.path == f"/api/v1/witness/votes/{vote_id}/head":
                    return self._answer(200, outer._head(parse_qs(parts.query)))
                return self._answer(404, {"error": {"code": "not_found", "message": "no route"}})

            def do_POST(self):
                outer.requests.append(self.path)
                body = loads_strict(self.rfile.read(int(self.headers["Content-Length"])))
                if outer.posts_fail:
                    return self._answer(503, {"error": {"code": "database_unavailable", "message": "down"}})
                keys = {w["id"]: w["public_key"] for w in outer.builder.entries[0]["witnesses"]}
                problem = cosignature_problem(body, outer.builder.vote_id, keys)
                if problem:
                    return self._answer(403, {"error": {"code": "witness_unknown", "message": problem}})
                if any(c["witness"] == body["witness"] and c["size"] == body["size"] for c in outer.cosignatures):
                    return self._answer(409, {"error": {"code": "cosignature_exists", "message": "exists"}})
                outer.cosignatures.append(body)
                return self._answer(201, {"vote_id": body["vote_id"], "size": body["size"]})

        return Handler
