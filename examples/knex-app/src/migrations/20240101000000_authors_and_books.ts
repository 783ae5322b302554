import type { Knex } from "knex";

// The schema: authors 1-n books. Knex runs this once and records it in knex_migrations.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("authors", (table) => {
    table.increments("id");
    table.string("name", 100).notNullable();
    table.string("email", 255).nullable();
    table.timestamps(true, true);
  });
  await knex.schema.createTable("books", (table) => {
    table.increments("id");
    table.string("title", 200).notNullable();
    table.integer("year").notNullable();
    table.integer("author_id").notNullable().references("id").inTable("authors").onDelete("CASCADE");
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable("books");
  await knex.schema.dropTable("authors");
}
