// add-platform — a transformer (JavaScript, contract 0.2) that sets `context.platform` on
// statements that lack it, e.g. to tag everything a Moodle site sends. xAPI allows `platform`
// only when the object is an Activity, so other statements pass unchanged. It reads the two
// fields it needs and answers a merge patch.
//
// Config: `platform` (required), `overwrite` ("true" replaces a platform already set).
import { fieldTransformer, patch, config, Rejection } from './xlrs-fields.js';

export const transform = fieldTransformer((statement) => {
  const platform = config('platform');
  if (!platform) {
    throw new Error('add-platform needs `platform` in its [config]');
  }
  const type = statement.string('/object/objectType');
  if (type !== undefined && type !== 'Activity') return undefined;
  const context = statement.get('/context');
  if (context !== undefined && (typeof context !== 'object' || Array.isArray(context))) {
    throw new Rejection('context is not an object');
  }
  if (context?.platform !== undefined && config('overwrite') !== 'true') return undefined;
  return patch({ context: { platform } });
});
