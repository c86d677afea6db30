// BGP passwords. Herald's agents read them from Secrets in their own namespace only
// (src/agent/routing.ts), so a password the peer kept inline becomes a Secret there, and a
// Secret the peer kept elsewhere has to be copied there.
import type { SecretKeyRef } from "../api/bgppeer.ts";
import { isDnsSubdomain } from "../api/validation.ts";
import { objectName, passwordSecret, SECRET_NAMESPACE, type Output } from "./output.ts";
import type { FieldReader } from "./reader.ts";

const PASSWORD_KEY = "password";

/** The Linux TCP MD5 key limit (TCP_MD5SIG_MAXKEYLEN). */
const MD5_KEY_LIMIT = 80;

/**
 * Writes `password` into a Secret for the peer and returns the reference to it. The
 * Secret is in the output in plaintext, which the user must know before sharing the file.
 */
export function inlinePassword(
  reader: FieldReader,
  field: string,
  peerName: string,
  password: string,
  output: Output,
): SecretKeyRef {
  const name = objectName(`${peerName}-bgp-password`);
  checkPassword(reader, field, password);
  output.add(reader.origin, passwordSecret(name, password), [
    `The BGP password of ${reader.origin.kind} ${reader.origin.name}, in plaintext.`,
  ]);
  reader.warn(
    field,
    `written in PLAINTEXT into Secret ${SECRET_NAMESPACE}/${name} in the output: keep the output private, or create that Secret yourself and delete it from the output`,
  );
  return { namespace: SECRET_NAMESPACE, name, key: PASSWORD_KEY };
}

/** A reference to a Secret the peer already uses, which must be copied to Herald's namespace. */
export function copiedSecret(
  reader: FieldReader,
  field: string,
  name: string,
  namespace: string,
  key = PASSWORD_KEY,
): SecretKeyRef | undefined {
  if (!isDnsSubdomain(name)) {
    reader.warn(
      field,
      `"${name}" is not a Secret name; the session is converted without a password`,
    );
    return undefined;
  }
  // Secret data keys: what the API server accepts (and Herald's schema checks).
  if (!/^[-._a-zA-Z0-9]{1,253}$/.test(key)) {
    reader.warn(field, `"${key}" is not a Secret key; the key "${PASSWORD_KEY}" is used instead`);
    key = PASSWORD_KEY;
  }
  if (namespace !== SECRET_NAMESPACE) {
    reader.warn(
      field,
      `Herald's agents read BGP passwords only from Secrets in ${SECRET_NAMESPACE}: copy Secret ${namespace}/${name} there before the cutover (docs/migration.md shows how)`,
    );
  }
  return { namespace: SECRET_NAMESPACE, name, key };
}

function checkPassword(reader: FieldReader, field: string, password: string): void {
  if (/["\n\r]/.test(password)) {
    reader.warn(
      field,
      "contains a double quote or a line break, which BIRD's configuration cannot carry; change the password on both ends",
    );
  }
  if (new TextEncoder().encode(password).length > MD5_KEY_LIMIT) {
    reader.warn(field, `is longer than ${MD5_KEY_LIMIT} bytes, the Linux TCP MD5 key limit`);
  }
}
