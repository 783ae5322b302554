import { Column, CreateDateColumn, Entity, ManyToOne, OneToMany, PrimaryGeneratedColumn } from "typeorm";

// Two entities with decorators (tsc emits their metadata: experimentalDecorators + emitDecoratorMetadata).

@Entity({ name: "customers" })
export class Customer {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: "nvarchar", length: 100 })
  name: string;

  @Column({ type: "nvarchar", length: 255, nullable: true })
  email: string | null;

  @CreateDateColumn({ type: "datetime2" })
  createdAt: Date;

  @OneToMany(
    () => Order,
    (order) => order.customer,
  )
  orders: Order[];
}

@Entity({ name: "orders" })
export class Order {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: "nvarchar", length: 100 })
  product: string;

  @Column({ type: "int" })
  quantity: number;

  @ManyToOne(
    () => Customer,
    (customer) => customer.orders,
    { onDelete: "CASCADE" },
  )
  customer: Customer;
}
