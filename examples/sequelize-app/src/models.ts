import {
  type CreationOptional,
  DataTypes,
  type ForeignKey,
  type InferAttributes,
  type InferCreationAttributes,
  Model,
  type NonAttribute,
  type Sequelize,
} from "sequelize";

// The models: Team 1-n Player (`team.players`, `player.team`). The tables themselves are made by the
// migration (src/migrations), not by sequelize.sync().

export class Team extends Model<InferAttributes<Team>, InferCreationAttributes<Team>> {
  declare id: CreationOptional<number>;
  declare name: string;
  declare city: string | null;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
  declare players?: NonAttribute<Player[]>;
}

export class Player extends Model<InferAttributes<Player>, InferCreationAttributes<Player>> {
  declare id: CreationOptional<number>;
  declare name: string;
  declare shirtNumber: number;
  declare teamId: ForeignKey<Team["id"]>;
  declare team?: NonAttribute<Team>;
}

export function defineModels(sequelize: Sequelize): void {
  Team.init(
    {
      id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
      name: { type: DataTypes.STRING(100), allowNull: false },
      city: { type: DataTypes.STRING(100), allowNull: true },
      createdAt: { type: DataTypes.DATE, field: "created_at" },
      updatedAt: { type: DataTypes.DATE, field: "updated_at" },
    },
    { sequelize, tableName: "teams", modelName: "team" },
  );
  Player.init(
    {
      id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
      name: { type: DataTypes.STRING(100), allowNull: false },
      shirtNumber: { type: DataTypes.INTEGER, allowNull: false, field: "shirt_number" },
    },
    { sequelize, tableName: "players", modelName: "player", timestamps: false },
  );
  Team.hasMany(Player, {
    as: "players",
    foreignKey: { name: "teamId", field: "team_id", allowNull: false },
  });
  Player.belongsTo(Team, {
    as: "team",
    foreignKey: { name: "teamId", field: "team_id", allowNull: false },
  });
}
