import { col, fn, type Transaction } from "sequelize";
import { Player, Team } from "./models.js";

// The app's data access, all through the models and their association.

/**
 * Starting data, on every start: clear both tables, then two teams with their players (a nested create
 * through the `players` association; `players` is not an attribute of Team, hence the cast).
 */
export async function seed(): Promise<void> {
  await Player.destroy({ where: {} });
  await Team.destroy({ where: {} });
  await Team.create(
    {
      name: "Riverside Rovers",
      city: "Riverside",
      players: [
        { name: "Alex Moreno", shirtNumber: 9 },
        { name: "Sam Okafor", shirtNumber: 4 },
      ],
    } as never,
    { include: [{ model: Player, as: "players" }] },
  );
  await Team.create(
    { name: "Hilltop United", city: null, players: [{ name: "Jordan Lee", shirtNumber: 1 }] } as never,
    { include: [{ model: Player, as: "players" }] },
  );
}

export async function addTeamWithPlayer(
  name: string,
  playerName: string,
  shirtNumber: number,
  transaction?: Transaction,
): Promise<Team> {
  const team = await Team.create({ name, city: null }, { transaction });
  await Player.create({ name: playerName, shirtNumber, teamId: team.id }, { transaction });
  return team;
}

/** A join: every player with their team (belongsTo, an INNER JOIN), by shirt number. */
export function playersWithTeams(limit?: number): Promise<Player[]> {
  return Player.findAll({
    include: [{ model: Team, as: "team", attributes: ["name"], required: true }],
    order: [
      ["shirtNumber", "ASC"],
      ["name", "ASC"],
    ],
    ...(limit === undefined ? {} : { limit }),
  });
}

/** Teams with how many players each has (hasMany, a LEFT JOIN with GROUP BY). */
export async function playersPerTeam(): Promise<{ name: string; players: number }[]> {
  const rows = (await Team.findAll({
    attributes: ["name", [fn("COUNT", col("players.id")), "players"]],
    include: [{ model: Player, as: "players", attributes: [] }],
    group: ["team.name"],
    order: [["name", "ASC"]],
    raw: true,
  })) as unknown as { name: string; players: number }[];
  return rows.map((row) => ({ name: row.name, players: Number(row.players) }));
}
