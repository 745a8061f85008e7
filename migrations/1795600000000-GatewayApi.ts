import type { MigrationInterface, QueryRunner } from 'typeorm';

/** What istiod derived from a snapshot's Gateway API objects: status conditions, route provenance. */
export class GatewayApi1795600000000 implements MigrationInterface {
  name = 'GatewayApi1795600000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "snapshots" ADD "gateway_api" jsonb NOT NULL DEFAULT '{"status":[],"virtualServices":[]}'`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "snapshots" DROP COLUMN "gateway_api"`);
  }
}
