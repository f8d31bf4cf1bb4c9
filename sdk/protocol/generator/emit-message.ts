import { camelCase } from './names.ts';
import type { FieldSpec, FieldType, MessageSpec, PrimitiveType } from './schema.ts';
import { formatVersions, intersect, isEmpty, type VersionRange, versionCondition } from './versions.ts';

/** One struct to emit: the message body itself, an inline struct, or a common struct. */
interface StructDef {
  readonly tsName: string;
  readonly fields: readonly FieldSpec[];
  /** The versions in which this struct can occur, used to drop always-true version tests. */
  readonly range: VersionRange;
}

type Cond = string | boolean;

const FIXED_BYTES: Partial<Record<PrimitiveType, number>> = {
  bool: 1, int8: 1, int16: 2, uint16: 2, int32: 4, int64: 8, float64: 8, uuid: 16,
};

const TS_TYPES: Record<PrimitiveType, string> = {
  bool: 'boolean', int8: 'number', int16: 'number', uint16: 'number', int32: 'number', int64: 'bigint',
  float64: 'number', uuid: 'string', string: 'string', bytes: 'Uint8Array', records: 'Uint8Array | null',
};

const FIXED_METHODS: Partial<Record<PrimitiveType, string>> = {
  bool: 'Bool', int8: 'Int8', int16: 'Int16', uint16: 'Uint16', int32: 'Int32', int64: 'Int64', float64: 'Float64',
  uuid: 'Uuid',
};

function and(a: Cond, b: Cond): Cond {
  if (a === false || b === false) return false;
  if (a === true) return b;
  if (b === true) return a;
  return `${a} && ${b}`;
}

function ternary(cond: Cond, yes: string, no: string): string {
  if (cond === true) return yes;
  if (cond === false) return no;
  return `(${cond} ? ${yes} : ${no})`;
}

function branch(cond: Cond, yes: string[], no: string[]): string[] {
  if (cond === true) return yes;
  if (cond === false) return no;
  if (no.length === 0) return [`if (${cond}) {`, ...indent(yes), '}'];
  return [`if (${cond}) {`, ...indent(yes), '} else {', ...indent(no), '}'];
}

function indent(lines: string[]): string[] {
  return lines.map((l) => (l === '' ? l : `  ${l}`));
}

function elementOf(type: FieldType): FieldType {
  return type.kind === 'array' ? type.element : type;
}

/** Emits one message's interfaces, encoder and decoder. */
export class MessageEmitter {
  private readonly msg: MessageSpec;
  private readonly structs = new Map<string, StructDef>();
  private readonly order: StructDef[] = [];
  private readonly needIsDefault = new Set<string>();
  private readonly needDefault = new Set<string>();
  readonly imports = new Set<string>();

  constructor(msg: MessageSpec) {
    this.msg = msg;
    this.addStruct(msg.name, msg.fields, msg.validVersions);
    for (const common of msg.commonStructs) {
      this.addStruct(this.structName(common.name), common.fields, msg.validVersions);
    }
  }

  /** Struct types are prefixed with the message name ("ProduceRequestTopicProduceData") unless they already start with it. */
  private structName(typeName: string): string {
    return typeName.startsWith(this.msg.name) ? typeName : `${this.msg.name}${typeName}`;
  }

  private addStruct(tsName: string, fields: readonly FieldSpec[], range: VersionRange): void {
    if (this.structs.has(tsName)) throw new Error(`${tsName}: struct defined twice`);
    const def: StructDef = { tsName, fields, range };
    this.structs.set(tsName, def);
    this.order.push(def);
    for (const f of fields) {
      const el = elementOf(f.type);
      if (el.kind === 'struct' && f.fields !== null) {
        this.addStruct(this.structName(el.name), f.fields, intersect(range, f.versions));
      }
    }
  }

  private struct(typeName: string): StructDef {
    const def = this.structs.get(this.structName(typeName));
    if (def === undefined) throw new Error(`${this.msg.name}: unknown struct type ${typeName}`);
    return def;
  }

  private tsType(type: FieldType): string {
    if (type.kind === 'primitive') return TS_TYPES[type.name];
    if (type.kind === 'struct') return this.struct(type.name).tsName;
    return `${this.tsType(type.element)}[]`;
  }

  private isNullable(f: FieldSpec): boolean {
    return (f.type.kind === 'primitive' && f.type.name === 'records') || !isEmpty(intersect(f.nullableVersions, f.versions));
  }

  private fieldType(f: FieldSpec): string {
    const base = this.tsType(f.type);
    if (f.type.kind === 'primitive' && f.type.name === 'records') return base;
    return this.isNullable(f) ? `${base} | null` : base;
  }

  private flexCond(f: FieldSpec, ctx: VersionRange): Cond {
    const flexible = f.flexibleVersions === null ? this.msg.flexibleVersions : intersect(this.msg.flexibleVersions, f.flexibleVersions);
    return versionCondition(flexible, ctx);
  }

  private defaultExpr(f: FieldSpec): string {
    const d = f.defaultValue;
    const t = f.type;
    if (t.kind === 'array') return d === 'null' ? 'null' : '[]';
    if (t.kind === 'struct') {
      if (d === 'null') return 'null';
      const name = this.struct(t.name).tsName;
      this.needDefault.add(name);
      return `default${name}()`;
    }
    switch (t.name) {
      case 'bool':
        return d === 'true' ? 'true' : 'false';
      case 'int8':
      case 'int16':
      case 'uint16':
      case 'int32':
      case 'float64':
        return d === undefined ? '0' : String(Number(d));
      case 'int64':
        return `${BigInt(d ?? '0')}n`;
      case 'uuid':
        this.imports.add('ZERO_UUID');
        return 'ZERO_UUID';
      case 'string':
        return d === 'null' ? 'null' : JSON.stringify(d ?? '');
      case 'bytes':
        if (d === 'null') return 'null';
        this.imports.add('EMPTY_BYTES');
        return 'EMPTY_BYTES';
      case 'records':
        return 'null';
    }
  }

  /** A condition that holds when `expr` differs from the field's default (Java's `!equals(default)`). */
  private nonDefault(f: FieldSpec, expr: string): string {
    const def = this.defaultExpr(f);
    const t = f.type;
    const nullable = this.isNullable(f);
    const sized = t.kind === 'array' || (t.kind === 'primitive' && (t.name === 'bytes' || t.name === 'records'));
    if (sized) {
      if (def === 'null') return `${expr} !== null`;
      return nullable ? `(${expr} === null || ${expr}.length !== 0)` : `${expr}.length !== 0`;
    }
    if (t.kind === 'struct') {
      if (def === 'null') return `${expr} !== null`;
      const name = this.struct(t.name).tsName;
      this.needIsDefault.add(name);
      return nullable ? `(${expr} === null || !isDefault${name}(${expr}))` : `!isDefault${name}(${expr})`;
    }
    return `${expr} !== ${def}`;
  }

  private label(def: StructDef, f: FieldSpec): string {
    return JSON.stringify(`${def.tsName}.${camelCase(f.name)}`);
  }

  /** Writes one non-array value of `type`. `nullCond` says in which versions null is allowed. */
  private writeValue(type: FieldType, expr: string, ctx: VersionRange, flex: Cond, nullCond: Cond, typeNullable: boolean, label: string): string[] {
    if (type.kind === 'struct') {
      const name = this.struct(type.name).tsName;
      const write = (e: string) => `write${name}(w, v, ${e});`;
      if (!typeNullable) return [write(expr)];
      this.imports.add('required');
      return branch(
        nullCond,
        [`if (${expr} === null) w.writeInt8(-1);`, 'else {', `  w.writeInt8(1);`, `  ${write(expr)}`, '}'],
        [write(`required(${expr}, ${label})`)],
      );
    }
    if (type.kind === 'array') throw new Error('nested arrays are not part of the Kafka schema language');
    const fixed = FIXED_METHODS[type.name];
    if (fixed !== undefined) return [`w.write${fixed}(${expr});`];
    const base = type.name === 'string' ? 'String' : 'Bytes';
    const call = (compact: boolean, nullable: boolean): string[] => {
      let arg = expr;
      if (!nullable && typeNullable) {
        this.imports.add('required');
        arg = `required(${expr}, ${label})`;
      }
      return [`w.write${compact ? 'Compact' : ''}${nullable ? 'Nullable' : ''}${base}(${arg});`];
    };
    const byNull = (compact: boolean) => (typeNullable ? branch(nullCond, call(compact, true), call(compact, false)) : call(compact, false));
    return branch(flex, byNull(true), byNull(false));
  }

  private writeField(def: StructDef, f: FieldSpec, expr: string, ctx: VersionRange): string[] {
    const flex = this.flexCond(f, ctx);
    const nullCond = versionCondition(f.nullableVersions, ctx);
    const typeNullable = this.isNullable(f);
    const label = this.label(def, f);
    if (f.type.kind !== 'array') return this.writeValue(f.type, expr, ctx, flex, nullCond, typeNullable, label);
    const element = f.type.element;
    const lengths = branch(flex, ['w.writeUvarint(a.length + 1);'], ['w.writeInt32(a.length);']);
    const body = [...lengths, 'for (const e of a) {', ...indent(this.writeValue(element, 'e', ctx, flex, false, false, label)), '}'];
    if (!typeNullable) return ['{', `  const a = ${expr};`, ...indent(body), '}'];
    this.imports.add('required');
    const nullMarker = branch(flex, ['w.writeUvarint(0);'], ['w.writeInt32(-1);']);
    const onNull = nullCond === true ? nullMarker : branch(nullCond, nullMarker, [`throw required(null, ${label});`]);
    return ['{', `  const a = ${expr};`, '  if (a === null) {', ...indent(indent(onNull)), '  } else {', ...indent(indent(body)), '  }', '}'];
  }

  /** An expression reading one non-array value of `type`. */
  private readValue(type: FieldType, ctx: VersionRange, flex: Cond, nullCond: Cond, typeNullable: boolean): string {
    if (type.kind === 'struct') {
      const read = `read${this.struct(type.name).tsName}(r, v)`;
      return typeNullable ? ternary(nullCond, `(r.readStructPresent() ? ${read} : null)`, read) : read;
    }
    if (type.kind === 'array') throw new Error('nested arrays are not part of the Kafka schema language');
    const fixed = FIXED_METHODS[type.name];
    if (fixed !== undefined) return `r.read${fixed}()`;
    const base = type.name === 'string' ? 'String' : 'Bytes';
    const call = (compact: boolean, nullable: boolean) => `r.read${compact ? 'Compact' : ''}${nullable ? 'Nullable' : ''}${base}()`;
    const byNull = (compact: boolean) => (typeNullable ? ternary(nullCond, call(compact, true), call(compact, false)) : call(compact, false));
    return ternary(flex, byNull(true), byNull(false));
  }

  /** Statements reading field `f` into `target` (a declared local or `m.x`). */
  private readField(f: FieldSpec, target: string, ctx: VersionRange): string[] {
    const flex = this.flexCond(f, ctx);
    const nullCond = versionCondition(f.nullableVersions, ctx);
    const typeNullable = this.isNullable(f);
    if (f.type.kind !== 'array') return [`${target} = ${this.readValue(f.type, ctx, flex, nullCond, typeNullable)};`];
    const element = f.type.element;
    const min = element.kind === 'primitive' ? (FIXED_BYTES[element.name] ?? 1) : 1;
    const len = (compact: boolean, nullable: boolean) => `r.read${compact ? 'Compact' : ''}${nullable ? 'Nullable' : ''}ArrayLength(${min})`;
    const byNull = (compact: boolean) => (typeNullable ? ternary(nullCond, len(compact, true), len(compact, false)) : len(compact, false));
    const read = this.readValue(element, ctx, flex, false, false);
    const fill = [`const a: ${this.tsType(f.type)} = [];`, `for (let i = 0; i < n; i++) a.push(${read});`, `${target} = a;`];
    const lines = ['{', `  const n = ${ternary(flex, byNull(true), byNull(false))};`];
    if (typeNullable) lines.push(`  if (n < 0) ${target} = null;`, '  else {', ...indent(indent(fill)), '  }');
    else lines.push(...indent(fill));
    lines.push('}');
    return lines;
  }

  private isTaggedSomewhere(f: FieldSpec): boolean {
    return f.tag !== null && !isEmpty(f.taggedVersions);
  }

  private emitInterface(def: StructDef): string[] {
    const lines = [`export interface ${def.tsName} {`];
    for (const f of def.fields) {
      const notes = [`versions ${formatVersions(f.versions)}`];
      const nullable = intersect(f.nullableVersions, f.versions);
      if (!isEmpty(nullable)) notes.push(`nullable ${formatVersions(nullable)}`);
      if (this.isTaggedSomewhere(f)) notes.push(`tag ${f.tag} in ${formatVersions(f.taggedVersions)}`);
      if (f.defaultValue !== undefined) notes.push(`default ${f.defaultValue}`);
      if (f.ignorable) notes.push('ignorable');
      lines.push(`  /** ${notes.join('; ')} */`, `  ${camelCase(f.name)}: ${this.fieldType(f)};`);
    }
    lines.push('}');
    return lines;
  }

  private emitWriter(def: StructDef, exportedName: string | null): string[] {
    const ctx = def.range;
    const body: string[] = [];
    const tagged: FieldSpec[] = [];
    for (const f of def.fields) {
      const expr = `m.${camelCase(f.name)}`;
      const present = versionCondition(f.versions, ctx);
      if (this.isTaggedSomewhere(f)) {
        tagged.push(f);
        const inTagged = versionCondition(intersect(f.versions, f.taggedVersions), ctx);
        if (!f.ignorable && inTagged !== true) {
          this.imports.add('unsupportedField');
          const missing = inTagged === false ? this.nonDefault(f, expr) : `!(${inTagged}) && ${this.nonDefault(f, expr)}`;
          body.push(`if (${missing}) throw unsupportedField(${this.label(def, f)}, v);`);
        }
        continue;
      }
      if (present === false) continue;
      const fieldCtx = intersect(ctx, f.versions);
      const write = this.writeField(def, f, expr, fieldCtx);
      if (present === true) body.push(...write);
      else if (f.ignorable) body.push(...branch(present, write, []));
      else {
        this.imports.add('unsupportedField');
        body.push(`if (${present}) {`, ...indent(write), `} else if (${this.nonDefault(f, expr)}) {`, `  throw unsupportedField(${this.label(def, f)}, v);`, '}');
      }
    }
    const flex = versionCondition(this.msg.flexibleVersions, ctx);
    const tagLines: string[] = [];
    if (tagged.length === 0) tagLines.push('w.writeUvarint(0);');
    else {
      const sorted = [...tagged].sort((a, b) => (a.tag ?? 0) - (b.tag ?? 0));
      const names: string[] = [];
      for (const f of sorted) {
        const name = `t${f.tag}`;
        names.push(name);
        const inTagged = versionCondition(intersect(f.versions, f.taggedVersions), intersect(ctx, this.msg.flexibleVersions));
        const cond = and(inTagged, this.nonDefault(f, `m.${camelCase(f.name)}`));
        tagLines.push(`const ${name} = ${cond};`);
      }
      tagLines.push(`w.writeUvarint(${names.map((n) => `(${n} ? 1 : 0)`).join(' + ')});`);
      for (const f of sorted) {
        const fieldCtx = intersect(intersect(ctx, f.versions), f.taggedVersions);
        tagLines.push(
          `if (t${f.tag}) {`,
          `  const s = w.beginTaggedField(${f.tag});`,
          ...indent(this.writeField(def, f, `m.${camelCase(f.name)}`, fieldCtx)),
          '  w.endTaggedField(s);',
          '}',
        );
      }
    }
    body.push(...branch(flex, tagLines, []));
    const name = exportedName ?? `write${def.tsName}`;
    const usesV = body.some((l) => /\bv\b/.test(l));
    return [
      `${exportedName !== null ? 'export ' : ''}function ${name}(w: Writer, ${usesV ? 'v' : '_v'}: number, m: ${def.tsName}): void {`,
      ...indent(body),
      '}',
    ];
  }

  private emitReader(def: StructDef, exportedName: string | null): string[] {
    const ctx = def.range;
    const body: string[] = [];
    const props: string[] = [];
    const tagged: FieldSpec[] = [];
    for (const f of def.fields) {
      const prop = camelCase(f.name);
      if (this.isTaggedSomewhere(f)) {
        tagged.push(f);
        props.push(`${prop}: ${this.defaultExpr(f)}`);
        continue;
      }
      const present = versionCondition(f.versions, ctx);
      const local = `_${prop}`;
      props.push(`${prop}: ${local}`);
      if (present === false) {
        body.push(`const ${local}: ${this.fieldType(f)} = ${this.defaultExpr(f)};`);
        continue;
      }
      const fieldCtx = intersect(ctx, f.versions);
      if (f.type.kind !== 'array') {
        const flex = this.flexCond(f, fieldCtx);
        const read = this.readValue(f.type, fieldCtx, flex, versionCondition(f.nullableVersions, fieldCtx), this.isNullable(f));
        body.push(`const ${local}: ${this.fieldType(f)} = ${ternary(present, read, this.defaultExpr(f))};`);
      } else {
        body.push(`let ${local}: ${this.fieldType(f)};`, ...branch(present, this.readField(f, local, fieldCtx), [`${local} = ${this.defaultExpr(f)};`]));
      }
    }
    const flex = versionCondition(this.msg.flexibleVersions, ctx);
    const tail: string[] = [];
    if (tagged.length === 0) {
      tail.push(...branch(flex, ['r.skipTaggedFields();'], []));
    } else {
      const cases: string[] = [];
      for (const f of [...tagged].sort((a, b) => (a.tag ?? 0) - (b.tag ?? 0))) {
        const fieldCtx = intersect(intersect(ctx, f.versions), f.taggedVersions);
        const inTagged = versionCondition(intersect(f.versions, f.taggedVersions), intersect(ctx, this.msg.flexibleVersions));
        cases.push(`case ${f.tag}:`, ...indent([...branch(inTagged, this.readField(f, `m.${camelCase(f.name)}`, fieldCtx), []), 'break;']));
      }
      tail.push(
        ...branch(flex, [
          'for (let t = r.readUvarint(); t > 0; t--) {',
          '  const tag = r.readUvarint();',
          '  const saved = r.pushLimit(r.readUvarint());',
          '  switch (tag) {',
          ...indent(indent(cases)),
          '  }',
          '  r.popLimit(saved);',
          '}',
        ], []),
      );
    }
    const name = exportedName ?? `read${def.tsName}`;
    const literal = props.length === 0 ? '{}' : `{\n${props.map((p) => `    ${p},`).join('\n')}\n  }`;
    const lines = [...body, `const m: ${def.tsName} = ${literal};`, ...tail, 'return m;'];
    const usesV = lines.some((l) => /\bv\b/.test(l));
    return [
      `${exportedName !== null ? 'export ' : ''}function ${name}(r: Reader, ${usesV ? 'v' : '_v'}: number): ${def.tsName} {`,
      ...indent(lines),
      '}',
    ];
  }

  private emitIsDefault(def: StructDef): string[] {
    const checks = def.fields.map((f) => this.nonDefault(f, `m.${camelCase(f.name)}`));
    const expr = checks.length === 0 ? 'true' : `!(${checks.join(' ||\n    ')})`;
    return [`function isDefault${def.tsName}(m: ${def.tsName}): boolean {`, `  return ${expr};`, '}'];
  }

  private emitDefault(def: StructDef): string[] {
    const props = def.fields.map((f) => `    ${camelCase(f.name)}: ${this.defaultExpr(f)},`);
    return [`function default${def.tsName}(): ${def.tsName} {`, `  return {`, ...props, '  };', '}'];
  }

  /** The TypeScript declarations for this message, without imports. */
  emit(): string[] {
    const out: string[] = [];
    const top = this.order[0]!;
    for (const def of this.order) out.push(...this.emitInterface(def), '');
    for (const def of this.order) {
      const isTop = def === top;
      out.push(...this.emitWriter(def, isTop ? `encode${def.tsName}` : null), '');
      out.push(...this.emitReader(def, isTop ? `decode${def.tsName}` : null), '');
    }
    const emitted = new Set<string>();
    for (let progress = true; progress; ) {
      progress = false;
      for (const name of [...this.needIsDefault, ...this.needDefault]) {
        const isDefault = this.needIsDefault.has(name) && !emitted.has(`is:${name}`);
        if (isDefault) {
          emitted.add(`is:${name}`);
          out.push(...this.emitIsDefault(this.structs.get(name)!), '');
          progress = true;
        }
        if (this.needDefault.has(name) && !emitted.has(`def:${name}`)) {
          emitted.add(`def:${name}`);
          out.push(...this.emitDefault(this.structs.get(name)!), '');
          progress = true;
        }
      }
    }
    return out;
  }

  get topName(): string {
    return this.msg.name;
  }
}
