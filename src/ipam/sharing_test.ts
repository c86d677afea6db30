import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SharingTerms } from "./request.ts";
import { sharingRefusal } from "./sharing.ts";

const terms = (over: Partial<SharingTerms>): SharingTerms => ({
  key: "k",
  ports: ["TCP/80"],
  trafficPolicy: "Cluster",
  selector: '{"app":"x"}',
  ...over,
});
const holder = (over: Partial<SharingTerms>) => [{ service: "ns/holder", terms: terms(over) }];

describe("sharingRefusal", () => {
  it("lets the same key share on other ports", () => {
    assert.equal(sharingRefusal(holder({}), terms({ ports: ["UDP/80"] })), undefined);
  });

  it("refuses each broken rule with a reason naming the holder", () => {
    assert.match(
      sharingRefusal(holder({}), terms({ key: undefined, ports: ["TCP/81"] }))!,
      /same sharing key/,
    );
    assert.match(
      sharingRefusal(holder({ key: undefined }), terms({ ports: ["TCP/81"] }))!,
      /held by ns\/holder/,
    );
    assert.match(
      sharingRefusal(holder({}), terms({ key: "j", ports: ["TCP/81"] }))!,
      /"k", not "j"/,
    );
    assert.match(sharingRefusal(holder({}), terms({}))!, /also uses TCP\/80/);
    assert.match(
      sharingRefusal(holder({}), terms({ ports: ["TCP/81"], trafficPolicy: "Local" }))!,
      /externalTrafficPolicy Cluster/,
    );
    const local = { trafficPolicy: "Local" as const };
    assert.equal(sharingRefusal(holder(local), terms({ ...local, ports: ["TCP/81"] })), undefined);
    assert.match(
      sharingRefusal(holder(local), terms({ ...local, ports: ["TCP/81"], selector: "{}" }))!,
      /select the same pods/,
    );
  });

  it("lets anything join an address nobody holds", () => {
    assert.equal(sharingRefusal([], terms({ key: undefined })), undefined);
  });
});
