import { isResourceType, type CrawlerVisitor, type InternalTypeSchema, type TypedValueWithPath } from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from 'fhir/r4.js';
import { issue } from '../operation-outcome.js';
import type { KnownExtensions } from './extension-definitions.js';
import { definitionUrlOf } from './extensions.js';
import { typedCheckIssues, type TypedCheck, type WalkPaths } from './typed-walk.js';

/** The names an element that holds an extension answers to in an extension's `context`. */
interface Holder {
  /** Its type and the types it specialises (`Age` is a `Quantity`, `code` a `string`). */
  types: string[];
  /** Its path as its type defines it (`HumanName.family`, `Questionnaire.item`). */
  definitionPath: string;
  /** Its path from the resource that holds it (`Patient.name`, `Questionnaire.item.item`). */
  elementPath: string;
}

/** R4's specialisations that a context naming the general type admits. */
const GENERAL_TYPES: Readonly<Record<string, readonly string[]>> = {
  Age: ['Quantity'], Count: ['Quantity'], Distance: ['Quantity'], Duration: ['Quantity'], MoneyQuantity: ['Quantity'], SimpleQuantity: ['Quantity'],
  code: ['string'], id: ['string'], markdown: ['string'],
  url: ['uri'], canonical: ['uri'], oid: ['uri'], uuid: ['uri'],
  positiveInt: ['integer'], unsignedInt: ['integer'],
  Dosage: ['BackboneElement'], ElementDefinition: ['BackboneElement'], Timing: ['BackboneElement'], MarketingStatus: ['BackboneElement'],
  Population: ['BackboneElement'], ProdCharacteristic: ['BackboneElement'], ProductShelfLife: ['BackboneElement'], SubstanceAmount: ['BackboneElement'],
};

/** Resources that are not DomainResources (they carry no extensions of their own in R4 either way). */
const NOT_DOMAIN_RESOURCES: ReadonlySet<string> = new Set(['Bundle', 'Binary', 'Parameters']);

function typesOf(type: string, isBackbone: boolean): string[] {
  // "Element" stands for any element, a resource among them, as HL7's validator reads it.
  if (isResourceType(type)) return [type, 'Resource', ...(NOT_DOMAIN_RESOURCES.has(type) ? [] : ['DomainResource']), 'Element'];
  if (isBackbone) return ['BackboneElement', 'Element'];
  return [type, ...(GENERAL_TYPES[type] ?? []), 'Element'];
}

const withoutIndexes = (path: string) => path.replace(/\[\d+\]/g, '');

/**
 * Contexts R4's own definitions use beyond what the extension's definition says: R4 puts
 * `structuredefinition-fhir-type` on ElementDefinition.type in its snapshots, while the
 * definition names ElementDefinition.type.code (later versions name both).
 */
const R4_CONTEXT_CORRECTIONS: Readonly<Record<string, readonly string[]>> = {
  'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type': ['ElementDefinition.type'],
};

function allows(url: string, definedContexts: readonly string[], holder: Holder): boolean {
  if (definedContexts.length === 0) return true;
  const contexts = [...definedContexts, ...(R4_CONTEXT_CORRECTIONS[url] ?? [])];
  return contexts.some((context) => context === holder.definitionPath || context === holder.elementPath || holder.types.includes(context));
}

function shownHolder(holder: Holder): string {
  const names = [...new Set([holder.types[0]!, holder.definitionPath, holder.elementPath])];
  return names.join(', ');
}

/**
 * A known extension is used only where its definition allows it (StructureDefinition.context,
 * FHIR R4 extensibility.html#context): `humanname-mothers-family` belongs on
 * `HumanName.family`, not on the HumanName. HL7's validator refuses it elsewhere, and so does
 * the hub. An extension the hub does not know is extensions.ts's business.
 * Runs on a resource the StructureDefinition validator accepted: it walks the resource by type.
 */
export function extensionContextCheck(known: KnownExtensions): TypedCheck {
  return (resource, issues, paths) => extensionContextVisitor(resource, issues, known, paths);
}

function extensionContextVisitor(resource: Resource, issues: OperationOutcomeIssue[], known: KnownExtensions, paths: WalkPaths): CrawlerVisitor {
  // The resources the walk is in (the root, contained ones, Bundle entries'): element paths
  // start at the nearest. Primitives' `_name` objects, which the crawler reports without their
  // type, are noted as the walk meets them (rare); an element's path is worked out only for an
  // element that holds an extension.
  const resources: Array<{ path: string; type: string }> = [];
  const primitiveHolders = new Map<string, Holder>();

  const elementPathOf = (instancePath: string): string => {
    const nearest = resources.at(-1) ?? { path: resource.resourceType, type: resource.resourceType };
    return withoutIndexes(`${nearest.type}${paths.hl7(instancePath).slice(paths.hl7(nearest.path).length)}`).replace(/\.ofType\([^)]*\)/g, '');
  };

  const holderOf = (parent: TypedValueWithPath, schema: InternalTypeSchema): Holder => {
    const primitive = primitiveHolders.get(parent.path);
    if (primitive) return primitive;
    return { types: typesOf(parent.type, schema.path.includes('.')), definitionPath: schema.path, elementPath: elementPathOf(parent.path) };
  };

  return {
    onEnterResource: (_path, value) => {
      resources.push({ path: value.path, type: value.type });
    },
    onExitResource: () => {
      resources.pop();
    },
    visitProperty: (parent, key, _path, propertyValues, schema) => {
      if (key.startsWith('_')) {
        const name = key.slice(1);
        const primitiveType = schema.elements[name]?.type[0]?.code ?? 'Element';
        for (const value of propertyValues.flat()) {
          primitiveHolders.set(value.path, { types: typesOf(primitiveType, false), definitionPath: `${schema.path}.${name}`, elementPath: `${elementPathOf(parent.path)}.${name}` });
        }
        return;
      }
      if (key !== 'extension' && key !== 'modifierExtension') return;
      let holder: Holder | undefined;
      for (const value of propertyValues.flat()) {
        const url = (value.value as { url?: unknown }).url;
        if (typeof url !== 'string') continue;
        const definition = known.definitions.get(definitionUrlOf(url));
        if (!definition) continue;
        holder ??= holderOf(parent, schema);
        if (allows(definition.url, definition.contexts, holder)) continue;
        issues.push(
          issue(
            'extension',
            `the extension ${url} is not allowed to be used at this point (this element is ${shownHolder(holder)}; allowed: ${definition.contexts.join(', ')})`,
            [paths.hl7(parent.path)],
          ),
        );
      }
    },
  };
}

/** The context issues of one resource, on a walk of their own. */
export function extensionContextIssues(resource: Resource, known: KnownExtensions): OperationOutcomeIssue[] {
  return typedCheckIssues(resource, extensionContextCheck(known));
}
