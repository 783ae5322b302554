import { DataTypes, type QueryInterface } from "sequelize";

// The schema: teams 1-n players. src/migrate.ts runs this once and records it in SequelizeMeta
// (the table sequelize-cli and Umzug use).

export const name = "20240101000000-teams-and-players";

export async function up(queryInterface: QueryInterface): Promise<void> {
  await queryInterface.createTable("teams", {
    id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
    name: { type: DataTypes.STRING(100), allowNull: false },
    city: { type: DataTypes.STRING(100), allowNull: true },
    created_at: { type: DataTypes.DATE, allowNull: false },
    updated_at: { type: DataTypes.DATE, allowNull: false },
  });
  await queryInterface.createTable("players", {
    id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
    name: { type: DataTypes.STRING(100), allowNull: false },
    shirt_number: { type: DataTypes.INTEGER, allowNull: false },
    team_id: {
      type: DataTypes.INTEGER,
      allowNull: false,
      references: { model: "teams", key: "id" },
      onDelete: "CASCADE",
    },
  });
}

export async function down(queryInterface: QueryInterface): Promise<void> {
  await queryInterface.dropTable("players");
  await queryInterface.dropTable("teams");
}
