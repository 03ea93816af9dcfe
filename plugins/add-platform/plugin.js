// add-platform — a transformer (JavaScript) that sets `context.platform` on statements that
// lack it, e.g. to tag everything a Moodle site sends. xAPI allows `platform` only when the
// object is an Activity, so other statements pass unchanged.
//
// Config: `platform` (required), `overwrite` ("true" replaces a platform already set).
import { transformer, config, Rejection } from './xlrs.js';

/** Whether the statement's object is an Activity (objectType absent or "Activity"). */
function aboutAnActivity(statement) {
  const type = statement.object?.objectType;
  return type === undefined || type === 'Activity';
}

export const transform = transformer((statement) => {
  const platform = config('platform');
  if (!platform) {
    throw new Error('add-platform needs `platform` in its [config]');
  }
  if (!aboutAnActivity(statement)) return statement;
  const context = statement.context ?? {};
  if (context.platform !== undefined && config('overwrite') !== 'true') return statement;
  if (typeof context !== 'object' || Array.isArray(context)) {
    throw new Rejection('context is not an object');
  }
  context.platform = platform;
  statement.context = context;
  return statement;
});
