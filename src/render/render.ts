/**
 * The renderer: a pure function from a resource and its view of the keys to the file's bytes.
 * It touches no file; an error names the resource, template, line and key.
 */
import { PerchError } from "../errors.js";
import type { LoadedResource } from "../resource/load-set.js";
import type { RenderScope } from "../template/helper-spec.js";
import type { RenderedText } from "./rendered-text.js";

export function renderResource(resource: LoadedResource, scope: RenderScope): RenderedText {
  try {
    return resource.template.renderText(scope);
  } catch (err) {
    const e = err instanceof PerchError ? err : new PerchError(String(err));
    throw e.withContext({ resource: resource.name, file: resource.srcPath });
  }
}
