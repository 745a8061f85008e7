import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Init1795269387246 implements MigrationInterface {
  name = 'Init1795269387246';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "resource_bodies" ("hash" text NOT NULL, "body" jsonb NOT NULL, CONSTRAINT "PK_9c12ab349c095771a05e1a7dc32" PRIMARY KEY ("hash"))`,
    );
    await queryRunner.query(`CREATE TYPE "public"."snapshot_status" AS ENUM('PENDING', 'COMPUTING', 'READY', 'FAILED')`);
    await queryRunner.query(
      `CREATE TABLE "snapshots" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "status" "public"."snapshot_status" NOT NULL DEFAULT 'PENDING', "progress" real NOT NULL DEFAULT '0', "error" text, "resource_count" integer NOT NULL DEFAULT '0', "istio_version" text, "diagnostics" jsonb NOT NULL DEFAULT '[]', CONSTRAINT "PK_f5661b5fd4224d23e26a631986b" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "snapshots_created_at_id_idx" ON "snapshots"  ("created_at", "id") `);
    await queryRunner.query(
      `CREATE TABLE "snapshot_resources" ("snapshot_id" uuid NOT NULL, "position" integer NOT NULL, "document" integer NOT NULL, "api_version" text NOT NULL, "kind" text NOT NULL, "namespace" text, "name" text NOT NULL, "evaluated" boolean NOT NULL, "body_hash" text NOT NULL, CONSTRAINT "PK_b231b6827d3a3114835290f6f4d" PRIMARY KEY ("snapshot_id", "position"))`,
    );
    await queryRunner.query(`CREATE INDEX "snapshot_resources_body_hash_idx" ON "snapshot_resources"  ("body_hash") `);
    await queryRunner.query(`CREATE INDEX "snapshot_resources_kind_idx" ON "snapshot_resources"  ("snapshot_id", "kind", "namespace") `);
    await queryRunner.query(`CREATE TYPE "public"."proxy_type" AS ENUM('SIDECAR', 'ROUTER', 'NONE')`);
    await queryRunner.query(
      `CREATE TABLE "workloads" ("snapshot_id" uuid NOT NULL, "namespace" text NOT NULL, "name" text NOT NULL, "kind" text NOT NULL, "proxy_type" "public"."proxy_type" NOT NULL, "labels" jsonb NOT NULL, "annotations" jsonb NOT NULL, "ips" text array NOT NULL, "service_account" text NOT NULL, "services" text array NOT NULL, CONSTRAINT "PK_39878b7fc0e7b312268f0e75873" PRIMARY KEY ("snapshot_id", "namespace", "name", "kind"))`,
    );
    await queryRunner.query(
      `ALTER TABLE "snapshot_resources" ADD CONSTRAINT "FK_d5bd89b60854c356c615bc466cc" FOREIGN KEY ("snapshot_id") REFERENCES "snapshots"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "snapshot_resources" ADD CONSTRAINT "FK_98058eb2898e3a6ad97fed94bc1" FOREIGN KEY ("body_hash") REFERENCES "resource_bodies"("hash") ON DELETE NO ACTION ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "workloads" ADD CONSTRAINT "FK_5c0665bff5554d23f54266b8743" FOREIGN KEY ("snapshot_id") REFERENCES "snapshots"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "workloads" DROP CONSTRAINT "FK_5c0665bff5554d23f54266b8743"`);
    await queryRunner.query(`ALTER TABLE "snapshot_resources" DROP CONSTRAINT "FK_98058eb2898e3a6ad97fed94bc1"`);
    await queryRunner.query(`ALTER TABLE "snapshot_resources" DROP CONSTRAINT "FK_d5bd89b60854c356c615bc466cc"`);
    await queryRunner.query(`DROP TABLE "workloads"`);
    await queryRunner.query(`DROP TYPE "public"."proxy_type"`);
    await queryRunner.query(`DROP INDEX "public"."snapshot_resources_kind_idx"`);
    await queryRunner.query(`DROP INDEX "public"."snapshot_resources_body_hash_idx"`);
    await queryRunner.query(`DROP TABLE "snapshot_resources"`);
    await queryRunner.query(`DROP INDEX "public"."snapshots_created_at_id_idx"`);
    await queryRunner.query(`DROP TABLE "snapshots"`);
    await queryRunner.query(`DROP TYPE "public"."snapshot_status"`);
    await queryRunner.query(`DROP TABLE "resource_bodies"`);
  }
}
