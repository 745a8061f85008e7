import type { MigrationInterface, QueryRunner } from 'typeorm';
import { indexRouteHosts } from '../src/database/route-hosts.js';

/**
 * Route configurations' virtual hosts, content-addressed (src/database/route-hosts.ts), so that a
 * diff reads only the virtual hosts that differ. envoy_objects is unchanged (the views read it as
 * before); the route configurations stored before this migration are indexed here.
 */
export class RouteHosts1796218438392 implements MigrationInterface {
  name = 'RouteHosts1796218438392';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "envoy_virtual_hosts" ("hash" bytea NOT NULL, "body" jsonb NOT NULL, CONSTRAINT "PK_envoy_virtual_hosts" PRIMARY KEY ("hash"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "envoy_route_hosts" ("route" bytea NOT NULL, "rest" jsonb NOT NULL, "hosts" bytea NOT NULL, "wildcards" integer array NOT NULL, "keyed" boolean NOT NULL,
       CONSTRAINT "PK_envoy_route_hosts" PRIMARY KEY ("route"),
       CONSTRAINT "FK_envoy_route_hosts_route" FOREIGN KEY ("route") REFERENCES "envoy_objects"("hash") ON DELETE CASCADE)`,
    );
    await indexRouteHosts(queryRunner, null);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "envoy_route_hosts"`);
    await queryRunner.query(`DROP TABLE "envoy_virtual_hosts"`);
  }
}
