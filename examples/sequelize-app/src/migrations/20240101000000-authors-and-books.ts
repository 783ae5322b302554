import { DataTypes, type QueryInterface } from "sequelize";

// The schema: authors 1-n books. src/migrate.ts runs this once and records it in SequelizeMeta
// (the table sequelize-cli and Umzug use).

export const name = "20240101000000-authors-and-books";

export async function up(queryInterface: QueryInterface): Promise<void> {
  await queryInterface.createTable("authors", {
    id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
    name: { type: DataTypes.STRING(100), allowNull: false },
    email: { type: DataTypes.STRING(255), allowNull: true },
    created_at: { type: DataTypes.DATE, allowNull: false },
    updated_at: { type: DataTypes.DATE, allowNull: false },
  });
  await queryInterface.createTable("books", {
    id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
    title: { type: DataTypes.STRING(200), allowNull: false },
    year: { type: DataTypes.INTEGER, allowNull: false },
    author_id: {
      type: DataTypes.INTEGER,
      allowNull: false,
      references: { model: "authors", key: "id" },
      onDelete: "CASCADE",
    },
  });
}

export async function down(queryInterface: QueryInterface): Promise<void> {
  await queryInterface.dropTable("books");
  await queryInterface.dropTable("authors");
}
