// ServiceAccount tokens from the TokenRequest API: how the lab and the tests give the
// controller and each agent the identity deploy/'s RBAC grants, rather than the admin's.
/** What a TokenRequest needs of a client: src/kube/raw.ts's, or the lab's. */
export interface TokenClient {
  request(method: "POST", path: string, body: unknown, contentType: string): Promise<unknown>;
}

/**
 * A bound token for namespace/name, valid for `seconds` (the API server's minimum is 600).
 * Bound to a Pod, it is what the kubelet mounts: the API server puts the Pod's node in
 * the token's user info (authentication.kubernetes.io/node-name), which the agent's
 * admission policy compares with the NodeState it writes.
 */
export async function serviceAccountToken(
  api: TokenClient,
  namespace: string,
  name: string,
  seconds = 48 * 3600,
  pod?: { name: string; uid: string },
): Promise<string> {
  const answer = (await api.request(
    "POST",
    `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
    {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: {
        expirationSeconds: seconds,
        ...(pod && { boundObjectRef: { apiVersion: "v1", kind: "Pod", ...pod } }),
      },
    },
    "application/json",
  )) as { status?: { token?: string } };
  const token = answer.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
  return token;
}
