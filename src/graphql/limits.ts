// GraphQL depth and cost limits, checked before any resolver runs: a query over either is an
// HTTP 400 naming the limit. Depth: graphql-armor's validation rule; cost: graphql-query-complexity
// with the costs below, computed once the operation and its variables are known.
import type { ApolloServerPlugin } from '@apollo/server';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import {
  getNullableType,
  GraphQLError,
  isListType,
  visit,
  type DocumentNode,
  type GraphQLSchema,
  type ValueNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';

export interface GraphqlLimits {
  /** Deepest selection: `{ a { b } }` is 2 (fragments count their own levels). */
  maxDepth: number;
  /** Largest cost of one operation (see `costOf`). */
  maxCost: number;
}

/**
 * Cost of a field, set with `complexity` on `@Field`/`@ResolveField`/`@Query` where a field does
 * real work (asks the generator, reads stored Envoy objects); every other field costs 1.
 */
export const FIELD_COST = {
  /** A walk over one proxy's generated config (resolveRoute), or a proxy's config read from storage. */
  proxyWalk: 25,
  /** Istio's config for one proxy, computed by the generator (Query.proxyConfig). */
  generatedConfig: 50,
  /** A request followed through every proxy on its way (journey). */
  journey: 100,
  /** Two snapshots compared: every affected proxy's config (diff). */
  diff: 200,
} as const;

/**
 * A list's members are counted this many times when the query does not say how many (`first`):
 * a list of proxies' configs costs far more than a count of them.
 */
export const ASSUMED_LIST_SIZE = 20;

/**
 * A large list's size in the cost, set with `@Extensions(...)` on its resolver: `listItemCost`,
 * what each member costs beyond its selection (a row built and serialised), and `assumedListSize`,
 * how many members are counted when the query gives no `first`/`limit` (else ASSUMED_LIST_SIZE).
 */
export interface ListCostExtensions {
  listItemCost?: number;
  assumedListSize?: number;
}

const numberOr = (value: unknown, fallback: number): number => (typeof value === 'number' ? value : fallback);

/**
 * A field's cost: its own (FIELD_COST where set; 1 for a list, 0 for any other field: the parts of
 * an answer already computed cost nothing more), plus its selection's times the number of
 * members it may return (`first`, else ASSUMED_LIST_SIZE).
 */
const costOf: ComplexityEstimator = ({ field, args, childComplexity }) => {
  const list = isListType(getNullableType(field.type));
  const own = typeof field.extensions?.complexity === 'number' ? field.extensions.complexity : list ? 1 : 0;
  const item = childComplexity + numberOr(field.extensions?.listItemCost, 0);
  const first: unknown = args.first ?? args.limit;
  if (typeof first === 'number' && first > 0) return own + first * item;
  // A connection's edges are the page its `first` already counted.
  if (list && field.name !== 'edges') return own + numberOr(field.extensions?.assumedListSize, ASSUMED_LIST_SIZE) * item;
  return own + childComplexity;
};

/** A 400 before execution, naming the limit. */
function limitError(message: string, limit: string, value: number, max: number): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: 'QUERY_LIMIT_EXCEEDED', limit, value, max, http: { status: 400 } },
  });
}

/** The depth rule, added to GraphQL's validation: reported as a validation error (HTTP 400). */
export function depthLimitRule(limits: GraphqlLimits): ValidationRule {
  return maxDepthRule({
    n: limits.maxDepth,
    propagateOnRejection: false,
    onReject: [
      (context: ValidationContext | null, error: GraphQLError) => {
        const found = /found (\d+)/.exec(error.message)?.[1];
        context?.reportError(
          limitError(
            `query depth ${found ?? 'over the limit'} exceeds the limit of ${limits.maxDepth} (MESHLENS_GRAPHQL_MAX_DEPTH)`,
            'depth',
            Number(found),
            limits.maxDepth,
          ),
        );
      },
    ],
  });
}

/** The variables a document's cost depends on: in `first`/`limit` arguments (costOf), and in @skip/@include. */
function costVariables(document: DocumentNode): string[] {
  const names = new Set<string>();
  const collect = (value: ValueNode) => visit(value, { Variable: (v) => void names.add(v.name.value) });
  visit(document, {
    Argument: (a) => (a.name.value === 'first' || a.name.value === 'limit' ? collect(a.value) : undefined),
    Directive: (d) => d.arguments?.forEach((a) => collect(a.value)),
  });
  return [...names].sort();
}

/** Costs by operation and the values of its cost's variables, of the documents Apollo keeps parsed. */
const knownCosts = new WeakMap<DocumentNode, { variables: string[]; costs: Map<string, number> }>();
/** Costs kept per document (distinct page sizes, say). */
const COSTS_PER_DOCUMENT = 64;

/**
 * An operation's cost. Apollo parses and validates a query text once and hands every later request
 * of that text the same document: its cost is computed once per operation and values of the
 * variables it depends on, not on every request (a resolveRoute's call differs every time, its cost never).
 */
function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | undefined,
  variables: Record<string, unknown>,
): number {
  let known = knownCosts.get(document);
  if (!known) knownCosts.set(document, (known = { variables: costVariables(document), costs: new Map() }));
  const key = JSON.stringify([operationName ?? null, ...known.variables.map((v) => variables[v] ?? null)]);
  const cached = known.costs.get(key);
  if (cached !== undefined) return cached;
  const cost = getComplexity({ schema, query: document, operationName, variables, estimators: [costOf] });
  if (known.costs.size >= COSTS_PER_DOCUMENT) known.costs.clear();
  known.costs.set(key, cost);
  return cost;
}

/** The cost limit, once the operation and its variables are known (Apollo's didResolveOperation). */
export function costLimitPlugin(limits: GraphqlLimits): ApolloServerPlugin {
  return {
    requestDidStart() {
      return Promise.resolve({
        didResolveOperation({ request, document, schema }) {
          let cost: number;
          try {
            cost = operationCost(schema, document, request.operationName ?? undefined, request.variables ?? {});
          } catch (error) {
            throw new GraphQLError(`query cost not computable: ${(error as Error).message}`, {
              extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
            });
          }
          if (cost > limits.maxCost) {
            throw limitError(
              `query cost ${cost} exceeds the limit of ${limits.maxCost} (MESHLENS_GRAPHQL_MAX_COST): ask for fewer items, or fewer proxies' configs at once`,
              'cost',
              cost,
              limits.maxCost,
            );
          }
          return Promise.resolve();
        },
      });
    },
  };
}

/**
 * graphql-js parses a query recursively: a query text nested thousands deep overflows the stack
 * (a 500) before any validation rule can count its depth. This counts the nesting of `{`, `(` and
 * `[` outside strings first, and refuses past a bound of four levels per allowed selection level.
 */
export function queryNestingGuard(limits: Pick<GraphqlLimits, 'maxDepth'>) {
  const max = Math.max(64, 4 * limits.maxDepth);
  return (req: { body?: unknown; query?: unknown }, res: { status(code: number): { json(body: unknown): void } }, next: () => void) => {
    const bodies = Array.isArray(req.body) ? (req.body as unknown[]) : [req.body, req.query];
    const deep = bodies.some((body) => {
      const query = (body as { query?: unknown } | undefined)?.query;
      return typeof query === 'string' && nestingOver(query, max);
    });
    if (!deep) return next();
    res.status(400).json({
      errors: [
        {
          message: `query text nested deeper than ${max} levels (MESHLENS_GRAPHQL_MAX_DEPTH × 4); refused before parsing`,
          extensions: { code: 'QUERY_LIMIT_EXCEEDED', limit: 'depth', max },
        },
      ],
    });
  };
}

function nestingOver(text: string, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"' && text[i] !== '\n'; i++) if (text[i] === '\\') i++;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '{' || c === '(' || c === '[') {
      if (++depth > max) return true;
    } else if (c === '}' || c === ')' || c === ']') {
      depth--;
    }
  }
  return false;
}
