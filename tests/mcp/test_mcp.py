"""`micro mcp` against clients not written here: the official MCP Python SDK (`mcp` on
PyPI) over stdio and Streamable HTTP, and the TypeScript SDK (`@modelcontextprotocol/sdk`)
over HTTP, with the greeter running and the calculator registering after the gateway
started. Then what HTTP refuses: a page of another site, a body over the limit, the wrong
content type, a caller without a token when MICRO_AUTH=jwt is on.

    python3 tests/mcp/test_mcp.py TARGET_DIR      (scripts/mcp-test.sh runs it)
"""

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError

BIN = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
HOME = tempfile.mkdtemp(prefix="micro-mcp-test-")
ENV = dict(os.environ, MICRO_HOME=HOME, MICRO_LOG_LEVEL="warn")
STRICT = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # Claude Desktop's pattern, the strictest
PROCS = []
PASSED = []


def exe(name):
    return os.path.join(BIN, name)


def start(name, *args, env=None, stderr=None):
    log = stderr or open(os.path.join(HOME, f"{name}.log"), "w")
    proc = subprocess.Popen([exe(name), *args], env=env or ENV, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=log)
    PROCS.append(proc)
    return proc


def micro(*args, env=None):
    return subprocess.run([exe("micro"), *args], env=env or ENV, capture_output=True,
                          text=True, timeout=120)


def wait_for(what, check, limit=60.0):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {limit} s")


def ok(name):
    PASSED.append(name)
    print(f"ok   {name}", flush=True)


def serve_http(*extra, env=None):
    """`micro mcp serve --address 127.0.0.1:0`: the process and its URL."""
    log_path = os.path.join(HOME, f"mcp-{len(PROCS)}.log")
    log = open(log_path, "w")
    proc = start("micro", "mcp", "serve", "--address", "127.0.0.1:0", *extra, env=env, stderr=log)
    url = {}

    def announced():
        text = open(log_path).read()
        m = re.search(r"micro mcp on (http://\S+/mcp)", text)
        if m:
            url["url"] = m.group(1)
        if proc.poll() is not None:
            raise AssertionError(f"micro mcp serve exited: {text}")
        return bool(m)

    wait_for("micro mcp serve announces its address", announced)
    return proc, url["url"], log_path


def request(url, method, headers):
    req = urllib.request.Request(url, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as rsp:
            return rsp.status, dict(rsp.headers)
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers)


def post(url, body, headers=None, content_type="application/json"):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="POST", headers={
        "content-type": content_type, "accept": "application/json, text/event-stream",
        **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as rsp:
            return rsp.status, rsp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def text_of(result):
    return result.content[0].text if result.content else ""


async def common_checks(client, transport):
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert "greeter_Greeter_Hello" in tools and "greeter_Greeter_Stream" in tools, list(tools)
    assert all(STRICT.match(name) for name in tools), list(tools)
    hello_schema = tools["greeter_Greeter_Hello"].input_schema
    assert hello_schema["type"] == "object" and hello_schema["properties"]["name"]["type"] == "string", hello_schema
    # The field's comment in greeter.proto, carried by micro-gen into the registry.
    assert hello_schema["properties"]["name"]["description"] == "The name to greet, e.g. John.", hello_schema
    # proto3 JSON: int64 is a string.
    assert tools["greeter_Greeter_Stream"].input_schema["properties"]["count"]["type"] == "string"
    ok(f"{transport}: tools listed, names pass ^[a-zA-Z0-9_-]{{1,64}}$, schemas from the request")

    hello = await client.call_tool("greeter_Greeter_Hello", {"name": "John"})
    assert not hello.is_error, text_of(hello)
    assert hello.structured_content == {"msg": "Hello John"}, hello.structured_content
    assert json.loads(text_of(hello)) == {"msg": "Hello John"}
    ok(f"{transport}: greeter_Greeter_Hello answers as text and structuredContent")

    stream = await client.call_tool("greeter_Greeter_Stream", {"name": "Ann", "count": "3"})
    assert not stream.is_error, text_of(stream)
    msgs = [m["msg"] for m in stream.structured_content["messages"]]
    assert msgs == ["Hello Ann #1", "Hello Ann #2", "Hello Ann #3"], msgs
    ok(f"{transport}: a server stream is collected into a list")

    bad = await client.call_tool("greeter_Greeter_Hello", {"name": 5})
    assert bad.is_error and "name: expected a string, got a number" in text_of(bad), text_of(bad)
    unknown_field = await client.call_tool("greeter_Greeter_Hello", {"nmae": "x"})
    assert unknown_field.is_error and "nmae: no such field" in text_of(unknown_field), text_of(unknown_field)
    ok(f"{transport}: arguments that break the schema are an isError result naming the field")

    try:
        await client.call_tool("no_such_tool", {})
        raise AssertionError("an unknown tool was called")
    except MCPError as e:
        assert e.error.code == -32602 and "no_such_tool" in e.error.message, e.error
    ok(f"{transport}: an unknown tool is a protocol error (-32602) naming it")


async def http_session(url):
    notes = []

    async def on_message(message):
        notes.append(repr(message))

    async with Client(url, cache=None, message_handler=on_message) as client:
        await common_checks(client, "python/http")
        names = {t.name for t in (await client.list_tools()).tools}
        assert not any(n.startswith("calculator_") for n in names), names
        # A service registered after the gateway started appears, and the client is told.
        start("calculator-server")

        async def appeared():
            end = time.monotonic() + 60
            while time.monotonic() < end:
                tools = {t.name for t in (await client.list_tools()).tools}
                if "calculator_Calculator_Divide" in tools:
                    return tools
                await asyncio.sleep(0.3)
            raise AssertionError("the calculator's tools did not appear")

        tools = await appeared()
        assert "calculator_Calculator_Sum" not in tools, "a client stream is not a tool"
        end = time.monotonic() + 20
        while not any("list_changed" in n for n in notes) and time.monotonic() < end:
            await asyncio.sleep(0.2)
        assert any("list_changed" in n for n in notes), notes
        ok("python/http: a service registered after start appears, with notifications/tools/list_changed")

        divide = await client.call_tool("calculator_Calculator_Divide", {"a": 1, "b": 0})
        assert divide.is_error and "cannot divide by zero" in text_of(divide), text_of(divide)
        assert divide.structured_content["error"]["code"] == 400, divide.structured_content
        fine = await client.call_tool("calculator_Calculator_Divide", {"a": 6, "b": 3})
        assert not fine.is_error and fine.structured_content["result"] == 2, text_of(fine)
        ok("python/http: a failing handler is an isError result with its code and detail")


async def stdio_session():
    params = StdioServerParameters(command=exe("micro"), args=["mcp", "serve"], env=ENV)
    async with Client(params, cache=None) as client:
        await common_checks(client, "python/stdio")
        divide = await client.call_tool("calculator_Calculator_Divide", {"a": 1, "b": 0})
        assert divide.is_error and "cannot divide by zero" in text_of(divide), text_of(divide)
        ok("python/stdio: the calculator's failing call is an isError result")


def typescript(url):
    node_dir = HERE
    out = subprocess.run(["node", os.path.join(node_dir, "agent.mjs"), url], capture_output=True,
                         text=True, timeout=120, cwd=node_dir)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert "greeter_Greeter_Hello" in got["tools"] and "calculator_Calculator_Divide" in got["tools"], got
    assert got["hello"]["isError"] is False and got["hello"]["structured"] == {"msg": "Hello Node"}, got
    assert got["divide"]["isError"] is True and "cannot divide by zero" in got["divide"]["text"], got
    assert got["unknown"] and got["unknown"]["code"] == -32602, got
    ok("typescript/http: tools listed, called, isError for a failing handler, -32602 for an unknown tool")


def http_refusals(url):
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    status, body = post(url, init)
    assert status == 200 and json.loads(body)["result"]["protocolVersion"] == "2025-06-18", (status, body)
    status, body = post(url, init, headers={"origin": "https://evil.example"})
    assert status == 403 and "evil.example" in body, (status, body)
    status, _ = post(url, init, headers={"origin": "http://localhost:5173"})
    assert status == 200, status
    status, body = post(url, b"x" * (2 << 20))
    assert status == 413 and "limit" in body, (status, body[:200])
    status, body = post(url, init, content_type="text/plain")
    assert status == 415, (status, body)
    status, body = post(url, b"{not json")
    assert status == 400 and json.loads(body)["error"]["code"] == -32700, (status, body)
    status, body = post(url, init, headers={"mcp-protocol-version": "1999-01-01"})
    assert status == 200, "the handshake carries its version in the body"
    ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
    status, body = post(url, ping, headers={"mcp-protocol-version": "1999-01-01"})
    assert status == 400 and "1999-01-01" in body, (status, body)
    # The Origin comes first, before the content type; a rebound Host is refused as well.
    status, _ = post(url, init, headers={"origin": "https://evil.example"}, content_type="text/plain")
    assert status == 403, status
    status, body = post(url, init, headers={"host": "evil.example"})
    assert status == 403 and "localhost" in body, (status, body)
    # A page of this machine gets CORS headers and a preflight answer.
    status, headers = request(url, "OPTIONS", {"origin": "http://localhost:5173",
                                               "access-control-request-method": "POST"})
    lower = {k.lower(): v for k, v in headers.items()}
    assert status == 204 and lower.get("access-control-allow-origin") == "http://localhost:5173", (status, headers)
    assert "mcp-protocol-version" in lower.get("access-control-allow-headers", ""), headers
    ok("http: a foreign Origin gets 403 before anything else, a rebound Host 403, a body over 1 MiB 413, text/plain 415, bad JSON -32700, an unknown protocol version 400; local pages get CORS")


def stops_with_an_open_event_stream():
    """An agent holding the event stream open does not keep the server from stopping."""
    import socket
    proc, url, _ = serve_http()
    host, port = re.match(r"http://([^:/]+):(\d+)/mcp", url).groups()
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall(f"GET /mcp HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n\r\n".encode())
    head = sock.recv(4096).decode(errors="replace")
    assert head.startswith("HTTP/1.1 200") and "text/event-stream" in head, head
    started = time.monotonic()
    proc.terminate()
    proc.wait(timeout=30)
    took = time.monotonic() - started
    sock.close()
    # Well under the gateway's 10 s grace: the stream was ended, not waited out.
    assert took < 5, f"stopping took {took:.1f} s with an event stream open"
    ok(f"http: stops in {took:.1f} s with an event stream open")


def http_auth():
    keys = os.path.join(HOME, "keys")
    assert micro("auth", "keys", "--dir", keys).returncode == 0
    issuer = dict(ENV, MICRO_AUTH_PRIVATE_KEY=os.path.join(keys, "auth.key"))
    made = micro("auth", "create", "account", "agent", "--secret", "s3cret-agent", "--type", "service", env=issuer)
    assert made.returncode == 0, made.stderr
    issued = micro("auth", "token", "--id", "agent", "--secret", "s3cret-agent", "--ttl", "1h", env=issuer)
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    env = dict(ENV, MICRO_AUTH="jwt", MICRO_AUTH_PUBLIC_KEY=os.path.join(keys, "auth.pub"),
               MICRO_LOG_LEVEL="warn,micro::mcp::audit=info")
    proc, url, log = serve_http(env=env)
    call = {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
            "params": {"name": "greeter_Greeter_Hello", "arguments": {"name": "Token"}}}
    status, body = post(url, call)
    assert status == 401, (status, body)
    status, body = post(url, call, headers={"authorization": "Bearer not-a-token"})
    assert status == 401, (status, body)
    status, body = post(url, call, headers={"authorization": f"Bearer {token}"})
    result = json.loads(body)["result"]
    assert status == 200 and result["structuredContent"] == {"msg": "Hello Token"}, (status, body)
    proc.terminate()
    proc.wait(timeout=10)
    ok("http with MICRO_AUTH=jwt: no token or a bad one gets 401, a valid token calls")
    audit = [line for line in open(log).read().splitlines() if "mcp audit" in line]
    assert any('tool="greeter_Greeter_Hello"' in line and 'caller="agent"' in line
               and "allowed=true" in line and "duration_ms=" in line for line in audit), audit
    # Refusals are audited too: the calls without a token and with a bad one.
    assert sum("allowed=false" in line for line in audit) >= 2, audit
    ok("http: an audit line per call and per refusal (tool, caller, allowed, duration)")


def main():
    try:
        start("greeter-server")
        wait_for("the greeter registers", lambda: "greeter" in micro("services").stdout)
        # micro mcp list / call, for people.
        listed = micro("mcp", "list")
        assert listed.returncode == 0 and "greeter_Greeter_Hello" in listed.stdout, listed
        called = micro("mcp", "call", "greeter_Greeter_Hello", '{"name":"CLI"}')
        assert called.returncode == 0 and json.loads(called.stdout) == {"msg": "Hello CLI"}, called
        failed = micro("mcp", "call", "greeter_Greeter_Hello", '{"name":1}')
        assert failed.returncode == 1 and "name: expected a string" in failed.stderr, failed
        ok("cli: micro mcp list and micro mcp call")

        _, url, _ = serve_http("--rate-limit", "0")
        asyncio.run(http_session(url))
        asyncio.run(stdio_session())
        typescript(url)
        http_refusals(url)
        http_auth()
        stops_with_an_open_event_stream()
        print(f"mcp: {len(PASSED)} checks passed", flush=True)
    finally:
        for proc in PROCS:
            if proc.poll() is None:
                proc.terminate()
        for proc in PROCS:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(HOME, ignore_errors=True)


if __name__ == "__main__":
    main()
