import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Meshes (every snapshot belongs to one; `default` for those before), who created a snapshot,
 * access tokens (only a hash of each is stored) and per-mesh retention settings.
 */
export class MeshesAndAccess1796188930994 implements MigrationInterface {
  name = 'MeshesAndAccess1796188930994';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "snapshots" ADD "mesh" text NOT NULL DEFAULT 'default'`);
    await queryRunner.query(`ALTER TABLE "snapshots" ADD "created_by" uuid`);
    // A mesh's snapshots newest first: listings, MESH@latest, retention.
    await queryRunner.query(`CREATE INDEX "snapshots_mesh_created_at_id_idx" ON "snapshots" ("mesh", "created_at", "id")`);
    await queryRunner.query(
      `CREATE TABLE "access_tokens" (
         "id" uuid NOT NULL DEFAULT gen_random_uuid(),
         "name" text,
         "hash" bytea NOT NULL,
         "scopes" text array NOT NULL,
         "meshes" text array,
         "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
         "expires_at" TIMESTAMP WITH TIME ZONE,
         "revoked_at" TIMESTAMP WITH TIME ZONE,
         CONSTRAINT "access_tokens_pkey" PRIMARY KEY ("id"),
         CONSTRAINT "access_tokens_hash_key" UNIQUE ("hash"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "mesh_settings" (
         "mesh" text NOT NULL,
         "keep_last" integer,
         "keep_seconds" integer,
         "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
         CONSTRAINT "mesh_settings_pkey" PRIMARY KEY ("mesh"))`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "mesh_settings"`);
    await queryRunner.query(`DROP TABLE "access_tokens"`);
    await queryRunner.query(`DROP INDEX "snapshots_mesh_created_at_id_idx"`);
    await queryRunner.query(`ALTER TABLE "snapshots" DROP COLUMN "created_by"`);
    await queryRunner.query(`ALTER TABLE "snapshots" DROP COLUMN "mesh"`);
  }
}
