import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Who can talk to whom (issue 15): a snapshot's connections, grouped by destination and outcome, and
 * its sending workloads' classes, as two more chunked lists (list_nodes), content-addressed like the
 * others. Null until computed (snapshots computed before this migration have none until recomputed).
 */
export class Connectivity1796189321376 implements MigrationInterface {
  name = 'Connectivity1796189321376';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "snapshots" ADD "connection_list" bytea, ADD "sender_list" bytea`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "snapshots" DROP COLUMN "connection_list", DROP COLUMN "sender_list"`);
  }
}
