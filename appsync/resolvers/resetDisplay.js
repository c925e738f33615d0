/**
 * Mutation.resetDisplay: put one tile back to the default image. The item is
 * replaced, so no image, story or visit of the previous state remains.
 */
import { util } from '@aws-appsync/utils';

export function request(ctx) {
  return {
    operation: 'PutItem',
    key: util.dynamodb.toMapValues({ displayId: ctx.args.displayId }),
    attributeValues: util.dynamodb.toMapValues({
      status: 'DEFAULT',
      updatedAt: util.time.nowISO8601(),
    }),
  };
}

export function response(ctx) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  return ctx.result;
}
