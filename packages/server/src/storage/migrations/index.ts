import * as core from './001-core.ts';
import * as oauth from './002-oauth.ts';
import * as authorizationCode from './003-authorization-code.ts';
import * as retentionIndexes from './004-retention-indexes.ts';
import * as adminApi from './005-admin-api.ts';
import * as keyUsage from './006-key-usage.ts';
import * as openIdConnect from './007-openid-connect.ts';
import * as changeNotifications from './008-change-notifications.ts';
import * as workspaceLabelIndex from './009-workspace-label-index.ts';
import type { Migration } from './helpers.ts';

/** Every migration, in order. Names are stable: never rename one that has shipped. */
export const migrations: Record<string, Migration> = {
  '001-core': core,
  '002-oauth': oauth,
  '003-authorization-code': authorizationCode,
  '004-retention-indexes': retentionIndexes,
  '005-admin-api': adminApi,
  '006-key-usage': keyUsage,
  '007-openid-connect': openIdConnect,
  '008-change-notifications': changeNotifications,
  '009-workspace-label-index': workspaceLabelIndex,
};
