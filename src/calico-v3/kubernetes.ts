/**
 * The Kubernetes objects Calico's confd reads even with an etcd datastore — BGP password Secrets, and
 * the Services and Endpoints behind advertised service IPs — from a JSON file: the fixtures' shape
 * (`{"secrets": [...], "services": [...], "endpoints": [...]}`) or kubectl's (`{"items": [...]}`).
 */
import { readFile } from "node:fs/promises";
import { PerchError } from "../errors.js";
import { FieldError, Fields } from "./fields.js";

export interface SecretObject {
  namespace: string;
  name: string;
  /** base64 values, as the API serves them. */
  data: Readonly<Record<string, string>>;
}

export interface ServiceObject {
  namespace: string;
  name: string;
  type: string;
  clusterIP: string;
  externalTrafficPolicy: string;
  externalIPs: readonly string[];
}

export interface EndpointsObject {
  namespace: string;
  name: string;
  addresses: ReadonlyArray<{ ip: string; nodeName: string }>;
}

export interface KubernetesObjects {
  secrets: SecretObject[];
  services: ServiceObject[];
  endpoints: EndpointsObject[];
}

export const NO_KUBERNETES_OBJECTS: KubernetesObjects = { secrets: [], services: [], endpoints: [] };

export async function readKubernetesFile(file: string): Promise<KubernetesObjects> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new PerchError(`cannot read the Kubernetes objects file: ${(err as Error).message}`, { file });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new PerchError(`Kubernetes objects file is not valid JSON: ${(err as Error).message}`, { file });
  }
  try {
    return parseKubernetesObjects(doc);
  } catch (err) {
    if (err instanceof FieldError) throw new PerchError(`Kubernetes objects file: ${err.message}`, { file });
    throw err;
  }
}

/** Throws FieldError naming the object's place in the document. */
export function parseKubernetesObjects(doc: unknown): KubernetesObjects {
  const root = Fields.root(doc, "the document");
  const out: KubernetesObjects = { secrets: [], services: [], endpoints: [] };
  const items = root.objects("items");
  if (items !== undefined) {
    for (const item of items) {
      const kind = item.requireString("kind");
      if (kind === "Secret") out.secrets.push(secret(item));
      else if (kind === "Service") out.services.push(service(item));
      else if (kind === "Endpoints") out.endpoints.push(endpoints(item));
    }
    return out;
  }
  if (!["secrets", "services", "endpoints"].some((k) => root.has(k))) {
    root.fail("secrets", `(or services, endpoints, items) is missing: expected {"secrets": […], "services": […], "endpoints": […]} or kubectl's {"items": […]}`);
  }
  out.secrets = (root.objects("secrets") ?? []).map(secret);
  out.services = (root.objects("services") ?? []).map(service);
  out.endpoints = (root.objects("endpoints") ?? []).map(endpoints);
  return out;
}

function identity(object: Fields): { namespace: string; name: string } {
  const metadata = object.requireObject("metadata");
  return { namespace: metadata.string("namespace") ?? "default", name: metadata.requireString("name") };
}

function secret(object: Fields): SecretObject {
  return { ...identity(object), data: object.stringMap("data") };
}

function service(object: Fields): ServiceObject {
  const spec = object.object("spec") ?? Fields.root({}, "spec");
  return {
    ...identity(object),
    type: spec.string("type") ?? "ClusterIP",
    clusterIP: spec.string("clusterIP") ?? "",
    externalTrafficPolicy: spec.string("externalTrafficPolicy") ?? "",
    externalIPs: spec.strings("externalIPs") ?? [],
  };
}

function endpoints(object: Fields): EndpointsObject {
  const addresses = (object.objects("subsets") ?? []).flatMap((subset) =>
    (subset.objects("addresses") ?? []).map((a) => ({ ip: a.requireString("ip"), nodeName: a.string("nodeName") ?? "" })),
  );
  return { ...identity(object), addresses };
}
