// Asking for a journey in e2e tests, and the fixtures they upload.
import { readFileSync } from 'node:fs';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { expect } from 'vitest';

const root = new URL('../../', import.meta.url);
export const fixture = (name: string) => readFileSync(new URL(`test/e2e/journey/${name}`, root), 'utf8');

export const JOURNEY_QUERY = `query ($id: ID!, $from: ProxyInput!, $call: CallInput!, $identity: RequestIdentity) {
  journey(snapshotId: $id, from: $from, call: $call, identity: $identity) {
    paths {
      share outcome status destination { namespace name kind }
      hops {
        proxy { namespace name kind } proxyType direction endpoints
        resolution { listener filterChain cluster error }
        tls { mode reason peerAuthentication { namespace name } destinationRule { namespace name } }
        authorization { verdict policy { namespace name } rule action reason dryRun }
      }
    }
    trace { stage detail }
  }
}`;

export interface JourneyResult {
  paths: {
    share: number;
    outcome: string;
    status: number | null;
    destination: { namespace: string; name: string; kind: string } | null;
    hops: {
      proxy: { namespace: string; name: string } | null;
      proxyType: string;
      direction: string;
      endpoints: string[] | null;
      resolution: { listener: string | null; filterChain: string | null; cluster: string | null; error: string | null };
      tls: {
        mode: string;
        reason: string;
        peerAuthentication: { namespace: string; name: string } | null;
        destinationRule: { namespace: string; name: string } | null;
      } | null;
      authorization: {
        verdict: string;
        policy: { namespace: string; name: string } | null;
        rule: number | null;
        action: string | null;
        reason: string;
        dryRun: string[] | null;
      } | null;
    }[];
  }[];
  trace: { stage: string; detail: string }[];
}

export async function askJourney(
  app: INestApplication,
  id: string,
  from: Record<string, unknown>,
  call: Record<string, unknown>,
  identity?: Record<string, unknown>,
): Promise<JourneyResult> {
  const res = await request(app.getHttpServer()).post('/graphql').send({ query: JOURNEY_QUERY, variables: { id, from, call, identity } });
  expect(res.body.errors, JSON.stringify(res.body.errors)).toBeUndefined();
  return res.body.data.journey as JourneyResult;
}
