"""Factories for catalog rows (tests build their data here, not in fixtures files)."""

import factory

from catalog.models import Category, Product, Review, Variant


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("path",)

    path = factory.Sequence(lambda n: f"Dept{n}")
    name = factory.LazyAttribute(lambda o: o.path.rsplit("/", 1)[-1])
    depth = factory.LazyAttribute(lambda o: o.path.count("/"))


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU{n:05d}")
    name = factory.Faker("sentence", nb_words=3)
    description = factory.Faker("paragraph")
    price = factory.Faker("pydecimal", left_digits=3, right_digits=2, positive=True)
    attributes = factory.LazyFunction(dict)


class VariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Variant

    product = factory.SubFactory(ProductFactory)
    sku = factory.LazyAttributeSequence(lambda o, n: f"{o.product.sku}-V{n}")


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Review

    product = factory.SubFactory(ProductFactory)
    rating = 4
    title = factory.Faker("sentence", nb_words=4)
    body = factory.Faker("paragraph")
    fingerprint = factory.Sequence(lambda n: f"fp{n:060d}")
