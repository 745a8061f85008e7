import { Field, Int, ObjectType } from '@nestjs/graphql';
import type { AnalyzerMessage } from '../model/diagnostics.js';
import { ConfigRef } from './config-ref.type.js';

/** One `istioctl analyze` message, from Istio's own analyzers. */
@ObjectType()
export class Diagnostic {
  @Field({ description: 'e.g. IST0101' })
  code: string;
  @Field({ description: 'Error, Warning or Info' })
  level: string;
  @Field()
  message: string;
  @Field(() => ConfigRef, { nullable: true, description: 'the resource the message is about' })
  resource: ConfigRef | null;
  @Field(() => Int, { nullable: true, description: 'the line of the resource, when Istio knows it' })
  line: number | null;
  @Field({ description: 'the line `istioctl analyze` prints' })
  text: string;

  static from(m: AnalyzerMessage): Diagnostic {
    return Object.assign(new Diagnostic(), {
      code: m.code,
      level: m.level,
      message: m.message,
      resource: m.kind && m.name ? { kind: m.kind, namespace: m.namespace ?? '', name: m.name } : null,
      line: null,
      text: m.text,
    });
  }
}
