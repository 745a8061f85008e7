import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A snapshot's mesh identity (trust domain and aliases) and its proxy classes' PeerAuthentication
 * resolutions (src/model/mesh-security.ts), stored by the compute job so that a journey on a READY
 * snapshot starts no generator session. Null until computed; snapshots computed before this
 * migration keep asking the generator.
 */
export class MeshSecurity1796198713607 implements MigrationInterface {
  name = 'MeshSecurity1796198713607';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "snapshots" ADD "mesh_security" jsonb`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "snapshots" DROP COLUMN "mesh_security"`);
  }
}
