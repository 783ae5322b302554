import type { MigrationInterface, QueryRunner } from "typeorm";

// The schema, created by a migration at start (synchronize stays off).

export class Init1700000000000 implements MigrationInterface {
  name = "Init1700000000000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "customers" ("id" int NOT NULL IDENTITY(1,1), "name" nvarchar(100) NOT NULL, "email" nvarchar(255), "createdAt" datetime2 NOT NULL CONSTRAINT "DF_customers_createdAt" DEFAULT getdate(), CONSTRAINT "PK_customers" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE TABLE "orders" ("id" int NOT NULL IDENTITY(1,1), "product" nvarchar(100) NOT NULL, "quantity" int NOT NULL, "customerId" int, CONSTRAINT "PK_orders" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'ALTER TABLE "orders" ADD CONSTRAINT "FK_orders_customer" FOREIGN KEY ("customerId") REFERENCES "customers"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "orders" DROP CONSTRAINT "FK_orders_customer"');
    await queryRunner.query('DROP TABLE "orders"');
    await queryRunner.query('DROP TABLE "customers"');
  }
}
