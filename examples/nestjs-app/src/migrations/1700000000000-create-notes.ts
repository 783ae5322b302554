import type { MigrationInterface, QueryRunner } from "typeorm";

// The schema, created by a migration at start (`migrationsRun: true`; synchronize stays off: the local
// SQL stand-in does not support TypeORM's schema introspection, and production schemas deserve
// migrations anyway).

export class CreateNotes1700000000000 implements MigrationInterface {
  name = "CreateNotes1700000000000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "notes" ("id" int NOT NULL IDENTITY(1,1), "title" nvarchar(200) NOT NULL, "body" nvarchar(2000), "done" bit NOT NULL CONSTRAINT "DF_notes_done" DEFAULT 0, "createdAt" datetime2 NOT NULL CONSTRAINT "DF_notes_createdAt" DEFAULT getdate(), "updatedAt" datetime2 NOT NULL CONSTRAINT "DF_notes_updatedAt" DEFAULT getdate(), CONSTRAINT "PK_notes" PRIMARY KEY ("id"))',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "notes"');
  }
}
