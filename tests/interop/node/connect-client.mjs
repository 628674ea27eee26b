// A Connect client (@connectrpc/connect-node, JSON over HTTP/1.1) calling a micro server's
// gRPC port, with service descriptors read from a FileDescriptorSet.
// Usage: node connect-client.mjs DESCRIPTOR_SET ADDRESS DIRECTION

import { readFileSync } from "node:fs";
import { createFileRegistry, fromBinary, create } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { createClient, ConnectError, Code } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";

const [descriptorSet, address, direction] = process.argv.slice(2);
const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(descriptorSet)));
const service = registry.getService("grpc.testing.TestService");
const transport = createConnectTransport({ baseUrl: `http://${address}`, httpVersion: "1.1", useBinaryFormat: false });
const client = createClient(service, transport);
const assert = (ok, what) => {
  if (!ok) throw new Error(what);
};
const expectCode = async (promise, code, message) => {
  try {
    await promise;
  } catch (e) {
    const err = ConnectError.from(e);
    assert(err.code === code, `expected ${Code[code]}, got ${Code[err.code]} ${err.rawMessage}`);
    if (message !== undefined) assert(err.rawMessage === message, `message ${JSON.stringify(err.rawMessage)}`);
    return;
  }
  throw new Error("expected an error, the call succeeded");
};

const cases = {
  async connect_empty_unary() {
    await client.emptyCall({});
  },
  async connect_large_unary() {
    const rsp = await client.unaryCall({ responseSize: 314159, payload: { body: new Uint8Array(271828) } });
    assert(rsp.payload.body.length === 314159, `payload ${rsp.payload.body.length}`);
  },
  async connect_status_code_and_message() {
    await expectCode(client.unaryCall({ responseStatus: { code: 2, message: "test status message" } }), Code.Unknown, "test status message");
  },
  async connect_unimplemented_method() {
    await expectCode(client.unimplementedCall({}), Code.Unimplemented);
  },
  async connect_unknown_path() {
    const other = registry.getService("grpc.testing.UnimplementedService");
    await expectCode(createClient(other, transport).unimplementedCall({}), Code.Unimplemented);
  },
};
void create;

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
process.exit(failed ? 1 : 0);
