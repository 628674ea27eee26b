// The @grpc/grpc-js side of the interop cases, calling a micro server.
// Usage: node grpc-client.mjs PROTO_DIR ADDRESS DIRECTION
// Prints `RESULT DIRECTION <case> PASS|FAIL <detail>` for every case.

import fs from "node:fs";
import path from "node:path";
import grpc from "@grpc/grpc-js";
import protoLoader from "@grpc/proto-loader";

const [protoDir, address, direction] = process.argv.slice(2);
const definition = protoLoader.loadSync("grpc/testing/test.proto", {
  includeDirs: [protoDir],
  keepCase: true,
  longs: Number,
  defaults: true,
});
const testing = grpc.loadPackageDefinition(definition).grpc.testing;
// With INTEROP_TLS_DIR: mutual TLS with the development CA and a certificate of it.
const tlsDir = process.env.INTEROP_TLS_DIR;
const creds = tlsDir
  ? grpc.credentials.createSsl(
      fs.readFileSync(path.join(tlsDir, "ca.pem")),
      fs.readFileSync(path.join(tlsDir, "localhost-key.pem")),
      fs.readFileSync(path.join(tlsDir, "localhost.pem")),
    )
  : grpc.credentials.createInsecure();
const stub = new testing.TestService(address, creds);
const other = new testing.UnimplementedService(address, creds);

const SIZES_IN = [27182, 8, 1828, 45904];
const SIZES_OUT = [31415, 9, 2653, 58979];
const SPECIAL = "\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \u{1F608}\t\n";
const payload = (n) => ({ body: Buffer.alloc(n) });
const deadline = (ms = 10000) => ({ deadline: Date.now() + ms });
const assert = (ok, what) => {
  if (!ok) throw new Error(what);
};
const unary = (fn, req, md = new grpc.Metadata(), opts = deadline()) =>
  new Promise((resolve, reject) => {
    const call = fn.call(stub, req, md, opts, (err, rsp) => (err ? reject(err) : resolve({ rsp, call })));
  });
const expectCode = async (promise, code, details) => {
  try {
    await promise;
  } catch (e) {
    assert(e.code === code, `expected code ${code}, got ${e.code} ${e.details}`);
    if (details !== undefined) assert(e.details === details, `expected details ${JSON.stringify(details)}, got ${JSON.stringify(e.details)}`);
    return;
  }
  throw new Error(`expected code ${code}, the call succeeded`);
};
const collect = (call) =>
  new Promise((resolve, reject) => {
    const out = [];
    call.on("data", (d) => out.push(d));
    call.on("error", reject);
    call.on("end", () => resolve(out));
  });
const next = (call) =>
  new Promise((resolve, reject) => {
    const onData = (d) => {
      call.off("error", onError);
      resolve(d);
    };
    const onError = (e) => {
      call.off("data", onData);
      reject(e);
    };
    call.once("data", onData);
    call.once("error", onError);
  });

const cases = {
  async empty_unary() {
    await unary(stub.EmptyCall, {});
  },
  async large_unary() {
    const { rsp } = await unary(stub.UnaryCall, { response_size: 314159, payload: payload(271828) });
    assert(rsp.payload.body.length === 314159, `payload ${rsp.payload.body.length}`);
  },
  async client_streaming() {
    const rsp = await new Promise((resolve, reject) => {
      const call = stub.StreamingInputCall(deadline(), (err, r) => (err ? reject(err) : resolve(r)));
      for (const n of SIZES_IN) call.write({ payload: payload(n) });
      call.end();
    });
    assert(rsp.aggregated_payload_size === 74922, `aggregated ${rsp.aggregated_payload_size}`);
  },
  async server_streaming() {
    const call = stub.StreamingOutputCall({ response_parameters: SIZES_OUT.map((size) => ({ size })) }, deadline());
    const sizes = (await collect(call)).map((r) => r.payload.body.length);
    assert(JSON.stringify(sizes) === JSON.stringify(SIZES_OUT), `sizes ${sizes}`);
  },
  async ping_pong() {
    const call = stub.FullDuplexCall(deadline());
    for (let i = 0; i < 4; i++) {
      call.write({ response_parameters: [{ size: SIZES_OUT[i] }], payload: payload(SIZES_IN[i]) });
      const rsp = await next(call);
      assert(rsp.payload.body.length === SIZES_OUT[i], `response ${rsp.payload.body.length}`);
    }
    call.end();
    assert((await collect(call)).length === 0, "responses after half-close");
  },
  async empty_stream() {
    const call = stub.FullDuplexCall(deadline());
    call.end();
    assert((await collect(call)).length === 0, "responses to nothing");
  },
  async cancel_after_begin() {
    const done = new Promise((resolve) => {
      const call = stub.StreamingInputCall(deadline(), (err) => resolve(err));
      call.cancel();
    });
    const err = await done;
    assert(err && err.code === grpc.status.CANCELLED, `expected CANCELLED, got ${err && err.code}`);
  },
  async cancel_after_first_response() {
    const call = stub.FullDuplexCall(deadline());
    call.write({ response_parameters: [{ size: 31415 }], payload: payload(27182) });
    await next(call);
    const ended = new Promise((resolve) => call.on("error", resolve));
    call.cancel();
    const err = await ended;
    assert(err.code === grpc.status.CANCELLED, `expected CANCELLED, got ${err.code}`);
  },
  async timeout_on_sleeping_server() {
    const call = stub.FullDuplexCall({ deadline: Date.now() + 1 });
    call.write({ response_parameters: [{ size: 31415, interval_us: 1000000 }], payload: payload(27182) });
    await expectCode(collect(call), grpc.status.DEADLINE_EXCEEDED);
  },
  async custom_metadata() {
    const md = new grpc.Metadata();
    md.set("x-grpc-test-echo-initial", "test_initial_metadata_value");
    md.set("x-grpc-test-echo-trailing-bin", Buffer.from([0xab, 0xab, 0xab]));
    const headers = new Promise((resolve) => {});
    let initial, trailing;
    await new Promise((resolve, reject) => {
      const call = stub.UnaryCall({ response_size: 314159, payload: payload(271828) }, md, deadline(), (err) =>
        err ? reject(err) : resolve()
      );
      call.on("metadata", (m) => (initial = m));
      call.on("status", (s) => (trailing = s.metadata));
    });
    await new Promise((r) => setTimeout(r, 10));
    assert(initial.get("x-grpc-test-echo-initial")[0] === "test_initial_metadata_value", "unary initial metadata");
    assert(Buffer.compare(trailing.get("x-grpc-test-echo-trailing-bin")[0], Buffer.from([0xab, 0xab, 0xab])) === 0, "unary trailing metadata");
    const call = stub.FullDuplexCall(md, deadline());
    let sInitial, sTrailing;
    call.on("metadata", (m) => (sInitial = m));
    const status = new Promise((resolve) => call.on("status", resolve));
    call.write({ response_parameters: [{ size: 314159 }], payload: payload(271828) });
    call.end();
    await collect(call);
    sTrailing = (await status).metadata;
    assert(sInitial.get("x-grpc-test-echo-initial")[0] === "test_initial_metadata_value", "stream initial metadata");
    assert(Buffer.compare(sTrailing.get("x-grpc-test-echo-trailing-bin")[0], Buffer.from([0xab, 0xab, 0xab])) === 0, "stream trailing metadata");
    void headers;
  },
  async status_code_and_message() {
    const status = { code: 2, message: "test status message" };
    await expectCode(unary(stub.UnaryCall, { response_status: status }), grpc.status.UNKNOWN, "test status message");
    const call = stub.FullDuplexCall(deadline());
    call.write({ response_status: status });
    call.end();
    await expectCode(collect(call), grpc.status.UNKNOWN, "test status message");
  },
  async special_status_message() {
    await expectCode(unary(stub.UnaryCall, { response_status: { code: 2, message: SPECIAL } }), grpc.status.UNKNOWN, SPECIAL);
  },
  async unimplemented_method() {
    await expectCode(unary(stub.UnimplementedCall, {}), grpc.status.UNIMPLEMENTED);
  },
  async unimplemented_service() {
    await expectCode(
      new Promise((resolve, reject) => other.UnimplementedCall({}, deadline(), (err, r) => (err ? reject(err) : resolve(r)))),
      grpc.status.UNIMPLEMENTED
    );
  },
};

let failed = 0;
for (const [name, run] of Object.entries(cases)) {
  try {
    await run();
    console.log(`RESULT ${direction} ${name} PASS`);
  } catch (e) {
    failed++;
    console.log(`RESULT ${direction} ${name} FAIL ${String(e.message || e).replace(/\s+/g, " ")}`);
  }
}
stub.close();
other.close();
process.exit(failed ? 1 : 0);
