import { type Command, Option } from 'commander';
import { Admin } from '../../sdk/client/admin/admin.ts';
import type { AclEntry, AclFilter } from '../../sdk/client/admin/acl-admin.ts';
import type { AclPermissionValue, PatternTypeValue } from '../../sdk/protocol/acl-codes.ts';
import { FILTER_PATTERN_TYPES, nameOf, OPERATIONS, PATTERN_TYPES, PERMISSIONS, RESOURCE_TYPES, type AclOperationValue, type ResourceTypeValue } from './acl-names.ts';
import { UsageError } from './cli-errors.ts';
import { addOutputOptions, type CliContext, exitCodeOf } from './cli-program.ts';
import { addConnectionOptions, type ConnectionFlags } from './connection-options.ts';
import { textTable } from './text-table.ts';
import { withClient } from './client-session.ts';

/** The resource name of the cluster resource (Kafka's `kafka-cluster`). */
const CLUSTER_NAME = 'kafka-cluster';

interface AclFlags extends ConnectionFlags {
  principal?: string;
  host?: string;
  resourceType?: string;
  resourceName?: string;
  patternType?: string;
  operation?: string[];
  permission?: string;
  json?: boolean;
}

/** An ACL as the CLI prints it: names instead of codes. */
export interface AclJson {
  principal: string;
  host: string;
  resourceType: string;
  resourceName: string;
  patternType: string;
  operation: string;
  permission: string;
}

function toJson(acl: AclEntry): AclJson {
  return {
    principal: acl.principal,
    host: acl.host,
    resourceType: nameOf(RESOURCE_TYPES, acl.resourceType),
    resourceName: acl.resourceName,
    patternType: nameOf(PATTERN_TYPES, acl.patternType),
    operation: nameOf(OPERATIONS, acl.operation),
    permission: nameOf(PERMISSIONS, acl.permission),
  };
}

function printAcls(context: CliContext, acls: readonly AclEntry[], json: boolean, none: string): void {
  const rows = acls.map(toJson).sort((a, b) => (a.principal + a.resourceType + a.resourceName + a.operation < b.principal + b.resourceType + b.resourceName + b.operation ? -1 : 1));
  if (json) context.io.out(JSON.stringify(rows));
  else if (rows.length === 0) context.io.out(none);
  else {
    context.io.out(
      textTable([
        ['PRINCIPAL', 'HOST', 'RESOURCE-TYPE', 'RESOURCE-NAME', 'PATTERN', 'OPERATION', 'PERMISSION'],
        ...rows.map((r) => [r.principal, r.host, r.resourceType, r.resourceName, r.patternType, r.operation, r.permission]),
      ]).join('\n'),
    );
  }
}

function checkPrincipal(principal: string): void {
  const colon = principal.indexOf(':');
  if (colon <= 0 || colon === principal.length - 1) throw new UsageError(`--principal must be Type:name such as User:alice (User:* for everyone), got "${principal}"`);
}

function addAclOptions(command: Command, filter: boolean): Command {
  const any = filter ? ' (any when omitted)' : '';
  command
    .addOption(new Option('--principal <principal>', `who: User:alice, or User:* for everyone${any}`).makeOptionMandatory(!filter))
    .addOption(filter ? new Option('--host <host>', 'the host the ACL names (any when omitted)') : new Option('--host <host>', 'the client address the ACL applies to').default('*'))
    .addOption(new Option('--resource-type <type>', `the kind of resource${any}`).choices([...RESOURCE_TYPES.keys()]).makeOptionMandatory(!filter))
    .addOption(new Option('--resource-name <name>', `the resource (a topic name, a group id, a prefix with --pattern-type prefixed; ${CLUSTER_NAME} for the cluster)${any}`))
    .addOption(
      filter
        ? new Option('--pattern-type <type>', 'literal or prefixed ACLs, match (every ACL that applies to --resource-name) or any').choices([...FILTER_PATTERN_TYPES.keys()])
        : new Option('--pattern-type <type>', 'whether --resource-name is the name or a prefix of names').choices([...PATTERN_TYPES.keys()]).default('literal'),
    )
    .addOption(new Option('--operation <operation...>', `what it allows or denies${any}`).choices([...OPERATIONS.keys()]).makeOptionMandatory(!filter))
    .addOption(filter ? new Option('--permission <permission>', 'allow or deny ACLs (both when omitted)').choices([...PERMISSIONS.keys()]) : new Option('--permission <permission>', 'allow or deny').choices([...PERMISSIONS.keys()]).default('allow'));
  return addConnectionOptions(addOutputOptions(command));
}

function aclsOf(flags: AclFlags): AclEntry[] {
  checkPrincipal(flags.principal!);
  const resourceType = RESOURCE_TYPES.get(flags.resourceType!)!;
  const resourceName = flags.resourceName ?? (flags.resourceType === 'cluster' ? CLUSTER_NAME : undefined);
  if (resourceName === undefined || resourceName === '') throw new UsageError(`--resource-name is required for a ${flags.resourceType} ACL`);
  if (flags.resourceType === 'cluster' && resourceName !== CLUSTER_NAME) throw new UsageError(`the cluster resource is named ${CLUSTER_NAME}, got "${resourceName}"`);
  return flags.operation!.map((operation) => ({
    resourceType,
    resourceName,
    patternType: PATTERN_TYPES.get(flags.patternType!)! as AclEntry['patternType'],
    principal: flags.principal!,
    host: flags.host!,
    operation: OPERATIONS.get(operation)!,
    permission: PERMISSIONS.get(flags.permission!)! as AclEntry['permission'],
  }));
}

/** The filters the flags describe: one per --operation, or one for any operation. */
function filtersOf(flags: AclFlags): AclFilter[] {
  if (flags.principal !== undefined) checkPrincipal(flags.principal);
  const base: AclFilter = {
    ...(flags.principal === undefined ? {} : { principal: flags.principal }),
    ...(flags.host === undefined ? {} : { host: flags.host }),
    ...(flags.resourceType === undefined ? {} : { resourceType: RESOURCE_TYPES.get(flags.resourceType) as ResourceTypeValue }),
    ...(flags.resourceName === undefined ? {} : { resourceName: flags.resourceName }),
    ...(flags.patternType === undefined ? {} : { patternType: FILTER_PATTERN_TYPES.get(flags.patternType) as PatternTypeValue }),
    ...(flags.permission === undefined ? {} : { permission: PERMISSIONS.get(flags.permission) as AclPermissionValue }),
  };
  if (flags.operation === undefined) return [base];
  return flags.operation.map((operation) => ({ ...base, operation: OPERATIONS.get(operation) as AclOperationValue }));
}

/** `rill acls create|list|delete`: Kafka ACLs over CreateAcls, DescribeAcls and DeleteAcls (the broker must run with --authorizer). */
export function addAclsCommand(program: Command, context: CliContext): void {
  const acls = program.command('acls').description('create, list or delete Kafka ACLs (a broker started with --authorizer)');

  const create = addAclOptions(acls.command('create').description('add ACLs: one per --operation'), false);
  create.action(
    exitCodeOf(context, (flags: AclFlags) => {
      const entries = aclsOf(flags);
      return withClient(flags, context.env, async (transport) => {
        await new Admin(transport).createAcls(entries);
        if (flags.json === true) context.io.out(JSON.stringify(entries.map(toJson)));
        else context.io.out(`created ${entries.length} ACL${entries.length === 1 ? '' : 's'}`);
        return 0;
      });
    }),
  );

  const list = addAclOptions(acls.command('list').description('list the ACLs the filter flags select (all without any)'), true);
  list.action(
    exitCodeOf(context, (flags: AclFlags) => {
      const filters = filtersOf(flags);
      return withClient(flags, context.env, async (transport) => {
        const admin = new Admin(transport);
        const found = new Map<string, AclEntry>();
        for (const filter of filters) for (const acl of await admin.describeAcls(filter)) found.set(JSON.stringify(acl), acl);
        printAcls(context, [...found.values()], flags.json === true, 'no ACLs');
        return 0;
      });
    }),
  );

  const remove = addAclOptions(acls.command('delete').description('delete the ACLs the filter flags select (at least one filter flag)'), true);
  remove.action(
    exitCodeOf(context, (flags: AclFlags) => {
      const given = [flags.principal, flags.host, flags.resourceType, flags.resourceName, flags.patternType, flags.operation, flags.permission].some((v) => v !== undefined);
      if (!given) throw new UsageError('acls delete needs at least one filter flag (--principal, --resource-type, --resource-name, ...): it deletes every ACL it selects');
      const filters = filtersOf(flags);
      return withClient(flags, context.env, async (transport) => {
        const deleted = await new Admin(transport).deleteAcls(filters);
        if (flags.json === true) printAcls(context, deleted, true, '');
        else {
          context.io.out(`deleted ${deleted.length} ACL${deleted.length === 1 ? '' : 's'}`);
          if (deleted.length > 0) printAcls(context, deleted, false, '');
        }
        return 0;
      });
    }),
  );
}
