/**
 * Mutation.publishResult: store the display's new state in DisplaysTable.
 * The item is replaced as a whole, so fields the input leaves out (an old
 * image or story) do not linger from the previous visit.
 */
import { util } from '@aws-appsync/utils';

// visitId is stored (a visitor's delete clears the tile by it) but the Display
// type has no such field, so no query or subscription returns it.
const FIELDS = [
  'visitId',
  'status',
  'imageUrl',
  'story',
  'title',
  'language',
  'theme',
  'reason',
  'viewToken',
  'viewExpiresAt',
];

export function request(ctx) {
  const input = ctx.args.input;
  const item = { updatedAt: util.time.nowISO8601() };
  for (const name of FIELDS) {
    if (input[name] !== undefined && input[name] !== null) {
      item[name] = input[name];
    }
  }
  return {
    operation: 'PutItem',
    key: util.dynamodb.toMapValues({ displayId: input.displayId }),
    attributeValues: util.dynamodb.toMapValues(item),
  };
}

export function response(ctx) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  return ctx.result;
}
