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

// The models: Author 1-n Book (`author.books`, `book.author`). The tables themselves are made by the
// migration (src/migrations), not by sequelize.sync().

export class Author extends Model<InferAttributes<Author>, InferCreationAttributes<Author>> {
  declare id: CreationOptional<number>;
  declare name: string;
  declare email: string | null;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
  declare books?: NonAttribute<Book[]>;
}

export class Book extends Model<InferAttributes<Book>, InferCreationAttributes<Book>> {
  declare id: CreationOptional<number>;
  declare title: string;
  declare year: number;
  declare authorId: ForeignKey<Author["id"]>;
  declare author?: NonAttribute<Author>;
}

export function defineModels(sequelize: Sequelize): void {
  Author.init(
    {
      id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
      name: { type: DataTypes.STRING(100), allowNull: false },
      email: { type: DataTypes.STRING(255), allowNull: true },
      createdAt: { type: DataTypes.DATE, field: "created_at" },
      updatedAt: { type: DataTypes.DATE, field: "updated_at" },
    },
    { sequelize, tableName: "authors", modelName: "author" },
  );
  Book.init(
    {
      id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
      title: { type: DataTypes.STRING(200), allowNull: false },
      year: { type: DataTypes.INTEGER, allowNull: false },
    },
    { sequelize, tableName: "books", modelName: "book", timestamps: false },
  );
  Author.hasMany(Book, {
    as: "books",
    foreignKey: { name: "authorId", field: "author_id", allowNull: false },
  });
  Book.belongsTo(Author, {
    as: "author",
    foreignKey: { name: "authorId", field: "author_id", allowNull: false },
  });
}
