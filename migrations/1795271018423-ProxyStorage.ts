import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ProxyStorage1795271018423 implements MigrationInterface {
  name = 'ProxyStorage1795271018423';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "envoy_config_nodes" ("hash" text NOT NULL, "level" smallint NOT NULL, "children" text array NOT NULL, "listeners" integer NOT NULL, "routes" integer NOT NULL, "clusters" integer NOT NULL, "endpoints" integer NOT NULL, CONSTRAINT "PK_166d4a471fcbf783bd33aec4c6d" PRIMARY KEY ("hash"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "envoy_objects" ("hash" text NOT NULL, "type" text NOT NULL, "name" text NOT NULL, "body" jsonb NOT NULL, CONSTRAINT "PK_3e7523db992bd8765d9f43d8c64" PRIMARY KEY ("hash"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "proxy_classes" ("snapshot_id" uuid NOT NULL, "class_key" text NOT NULL, "config_hash" text NOT NULL, "proxy_info" text NOT NULL, "members" integer NOT NULL, CONSTRAINT "PK_bc7626871047d23ce8165324a75" PRIMARY KEY ("snapshot_id", "class_key"))`,
    );
    await queryRunner.query(`CREATE INDEX "proxy_classes_proxy_info_idx" ON "proxy_classes"  ("proxy_info") `);
    await queryRunner.query(`CREATE INDEX "proxy_classes_config_hash_idx" ON "proxy_classes"  ("config_hash") `);
    await queryRunner.query(`ALTER TABLE "workloads" ADD "proxy_class" text`);
    // Declared with synchronize: false on the entity (TypeORM cannot declare GIN).
    await queryRunner.query(`CREATE INDEX "envoy_config_nodes_children_idx" ON "envoy_config_nodes" USING gin ("children")`);
    await queryRunner.query(
      `ALTER TABLE "proxy_classes" ADD CONSTRAINT "FK_ac909a8cfec0ae482e2b66f1444" FOREIGN KEY ("snapshot_id") REFERENCES "snapshots"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "proxy_classes" ADD CONSTRAINT "FK_43c6a3b9e08e6d57d49aa6fc335" FOREIGN KEY ("config_hash") REFERENCES "envoy_config_nodes"("hash") ON DELETE NO ACTION ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "proxy_classes" ADD CONSTRAINT "FK_edcc599b940f934dc4cba107c43" FOREIGN KEY ("proxy_info") REFERENCES "envoy_objects"("hash") ON DELETE NO ACTION ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "proxy_classes" DROP CONSTRAINT "FK_edcc599b940f934dc4cba107c43"`);
    await queryRunner.query(`ALTER TABLE "proxy_classes" DROP CONSTRAINT "FK_43c6a3b9e08e6d57d49aa6fc335"`);
    await queryRunner.query(`ALTER TABLE "proxy_classes" DROP CONSTRAINT "FK_ac909a8cfec0ae482e2b66f1444"`);
    await queryRunner.query(`DROP INDEX "public"."envoy_config_nodes_children_idx"`);
    await queryRunner.query(`ALTER TABLE "workloads" DROP COLUMN "proxy_class"`);
    await queryRunner.query(`DROP INDEX "public"."proxy_classes_config_hash_idx"`);
    await queryRunner.query(`DROP INDEX "public"."proxy_classes_proxy_info_idx"`);
    await queryRunner.query(`DROP TABLE "proxy_classes"`);
    await queryRunner.query(`DROP TABLE "envoy_objects"`);
    await queryRunner.query(`DROP TABLE "envoy_config_nodes"`);
  }
}
